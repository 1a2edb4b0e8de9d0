-- purpose: the retention purge — the failing values of every version received of the ROWGUIDs :keys, by primary key.
SELECT f.source, f.change_seq, f.rule_id, f.field, f.utility, f.value
FROM rule_failure f JOIN received_record r ON r.source = f.source AND r.change_seq = f.change_seq
WHERE r.rowguid IN :keys
