-- purpose: the material rows of the given change sequences, in order.
SELECT * FROM remote_material WHERE change_seq IN :seqs ORDER BY change_seq, xh
