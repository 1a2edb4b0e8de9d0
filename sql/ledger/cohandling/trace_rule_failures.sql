-- purpose: trace: the rule failures of the records' versions (rule_failure, by its primary key's prefix source, change_seq).
SELECT f.source, f.change_seq, f.rule_id, f.field, f.utility, f.severity, f.value, f.message_zh, f.run_id
FROM rule_failure f
WHERE f.source = :source AND f.change_seq IN :seqs
ORDER BY f.change_seq, f.rule_id, f.field, f.utility
