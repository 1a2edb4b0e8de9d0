-- purpose: the retention purge — the originals before cleaning of every version received of the BWIDs :keys, by primary key.
SELECT g.source, g.change_seq, g.part, g.field, g.original
FROM received_original g JOIN remote_package p ON p.source = g.source AND p.change_seq = g.change_seq
WHERE p.bwid IN :keys
