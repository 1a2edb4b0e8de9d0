-- purpose: which cleaned values' originals are already kept for these changes of a source (change_seq, part, field).
SELECT change_seq, part, field FROM received_original WHERE source = :source AND change_seq IN :seqs
