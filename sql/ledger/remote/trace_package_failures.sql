-- purpose: trace: the rule failures of the package versions (remote_failure, by its primary key's prefix source, change_seq).
SELECT f.source, f.change_seq, f.rule_id, f.field, f.item, f.severity, f.value, f.message_zh
FROM remote_failure f
WHERE f.source = :source AND f.change_seq IN :seqs
ORDER BY f.change_seq, f.rule_id, f.field, f.item
