-- purpose: every package version with a verdict, its package (codes as validation read them), its delivery as the ledger knew it at :known_by (UTC; planned, answered or delivered by then), whether it is the BWID's version in force and whether a later version of it was delivered by then: the input of tracking and the remote-collection reports.
SELECT v.source, v.change_seq, v.bwid, v.op, v.status AS verdict, v.channel, v.destination, v.errors,
       v.sjdwdm AS hall, p.sjdwmc AS hall_name, p.sjxzqh AS hall_xzqh, v.xzqh, v.business_type, p.sjsj AS collected, p.sqbh,
       d.idempotency_key,
       CASE WHEN d.source IS NULL THEN NULL WHEN d.updated_at <= :known_by THEN d.status WHEN d.delivered_at <= :known_by THEN 'delivered' ELSE 'pending' END
           AS delivery_status,
       CASE WHEN d.delivered_at <= :known_by THEN d.delivered_at END AS delivered_at, d.correction,
       CASE WHEN d.updated_at <= :known_by OR d.delivered_at <= :known_by THEN d.code END AS delivery_code,
       CASE WHEN d.updated_at <= :known_by OR d.delivered_at <= :known_by THEN d.reason END AS delivery_reason,
       CASE WHEN d.updated_at <= :known_by OR d.delivered_at <= :known_by THEN d.receipt_id END AS receipt_id,
       CASE WHEN s.change_seq = v.change_seq THEN 1 ELSE 0 END AS in_force,
       CASE WHEN EXISTS (SELECT 1 FROM remote_delivery later
                         WHERE later.bwid = v.bwid AND later.change_seq > v.change_seq AND later.delivered_at <= :known_by
                           AND (later.status = 'delivered' OR later.updated_at > :known_by)) THEN 1 ELSE 0 END AS replaced
FROM remote_verdict v
JOIN remote_package p ON p.source = v.source AND p.change_seq = v.change_seq
LEFT JOIN remote_delivery d ON d.source = v.source AND d.change_seq = v.change_seq AND d.planned_at <= :known_by
LEFT JOIN remote_package_state s ON s.bwid = v.bwid
ORDER BY v.change_seq
