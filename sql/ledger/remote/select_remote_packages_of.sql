-- purpose: the package rows of the given change sequences.
SELECT * FROM remote_package WHERE change_seq IN :seqs ORDER BY change_seq
