-- purpose: the retention purge — the failing values of every version received of the BWIDs :keys, by primary key.
SELECT f.source, f.change_seq, f.rule_id, f.field, f.item, f.value
FROM remote_failure f JOIN remote_package p ON p.source = f.source AND p.change_seq = f.change_seq
WHERE p.bwid IN :keys
