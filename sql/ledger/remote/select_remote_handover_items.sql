-- purpose: the originals on one handover list, with their package's fields.
SELECT i.*, p.sjsj, p.bdcdyh, p.zl, p.ywlx, p.sqbh
FROM remote_handover_item i
JOIN remote_package p ON p.source = i.source AND p.change_seq = i.change_seq
WHERE i.list_id = :list_id
ORDER BY i.change_seq, i.xh
