-- purpose: every paper original (SFZZYJ yes) of a delivered package version, with the handover list it is on (if any) and whether its version is the BWID's latest delivered one: the input of handover planning and the backlog.
SELECT m.source, m.change_seq, m.xh, m.bwid, m.clbm, m.clmc, m.ys, m.sfzzyj,
       v.sjdwdm AS hall, p.sjdwmc AS hall_name, p.sjxzqh AS hall_xzqh, v.xzqh, p.sjsj AS collected, p.sqbh, d.delivered_at,
       CASE WHEN d.change_seq = (SELECT max(d2.change_seq) FROM remote_delivery d2 WHERE d2.bwid = d.bwid AND d2.status = 'delivered')
            THEN 1 ELSE 0 END AS in_force,
       i.list_id, h.list_no, h.created_at AS listed_at, h.received_at, h.received_by
FROM remote_material m
JOIN remote_delivery d ON d.source = m.source AND d.change_seq = m.change_seq AND d.status = 'delivered'
JOIN remote_verdict v ON v.source = m.source AND v.change_seq = m.change_seq
JOIN remote_package p ON p.source = m.source AND p.change_seq = m.change_seq
LEFT JOIN remote_handover_item i ON i.source = m.source AND i.change_seq = m.change_seq AND i.xh = m.xh
LEFT JOIN remote_handover h ON h.list_id = i.list_id
WHERE upper(trim(m.sfzzyj)) IN ('1', 'Y', '是', 'TRUE', 'T')
ORDER BY m.change_seq, m.xh
