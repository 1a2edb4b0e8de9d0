-- purpose: the applicant rows of the given change sequences, in order.
SELECT * FROM remote_applicant WHERE change_seq IN :seqs ORDER BY change_seq, xh
