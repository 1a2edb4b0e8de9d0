-- purpose: the retention purge — the originals before cleaning of every version received of the ROWGUIDs :keys, by primary key.
SELECT g.source, g.change_seq, g.part, g.field, g.original
FROM received_original g JOIN received_record r ON r.source = g.source AND r.change_seq = g.change_seq
WHERE r.rowguid IN :keys
