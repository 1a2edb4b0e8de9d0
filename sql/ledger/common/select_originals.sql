-- purpose: originals of cleaned values in a change-sequence range of a source (one range scan over the primary key).
SELECT change_seq, part, field, original, changes
FROM received_original
WHERE source = :source AND change_seq BETWEEN :low AND :high
ORDER BY change_seq, part, field
