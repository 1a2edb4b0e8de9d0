-- purpose: every material of a delivered package version with the paper-original flag as sent, and the handover list it is on (if any): the input of handover planning and the backlog.
SELECT m.source, m.change_seq, m.xh, m.bwid, m.clbm, m.clmc, m.ys, m.sfzzyj,
       p.sjdwdm AS hall, p.sjdwmc AS hall_name, p.sjxzqh AS hall_xzqh, p.xzqh, p.sjsj AS collected, p.sqbh,
       d.delivered_at, CASE WHEN s.change_seq = m.change_seq THEN 1 ELSE 0 END AS in_force,
       i.list_id, h.list_no, h.created_at AS listed_at, h.received_at, h.received_by
FROM remote_material m
JOIN remote_delivery d ON d.source = m.source AND d.change_seq = m.change_seq AND d.status = 'delivered'
JOIN remote_package p ON p.source = m.source AND p.change_seq = m.change_seq
LEFT JOIN remote_package_state s ON s.bwid = d.bwid
LEFT JOIN remote_handover_item i ON i.source = m.source AND i.change_seq = m.change_seq AND i.xh = m.xh
LEFT JOIN remote_handover h ON h.list_id = i.list_id
ORDER BY m.change_seq, m.xh
