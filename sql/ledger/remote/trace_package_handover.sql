-- purpose: trace: the paper originals of the package versions on handover lists (remote_handover_item, by its primary key's prefix), with the list.
SELECT i.source, i.change_seq, i.xh, i.bwid, i.clbm, i.clmc, i.ys, h.list_no, h.hall, h.xzqh, h.created_at, h.received_at, h.received_by
FROM remote_handover_item i
JOIN remote_handover h ON h.list_id = i.list_id
WHERE i.source = :source AND i.change_seq IN :seqs
ORDER BY i.change_seq, i.xh
