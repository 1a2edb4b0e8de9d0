-- purpose: lifetime balance — every remote-collection package version received, each in exactly one state (verdict, version in force, delivery, the authority's statuses), with since when.
SELECT p.source || '#' || CAST(p.change_seq AS VARCHAR(20)) AS unit, p.bwid AS ref,
       CASE
           WHEN v.change_seq IS NULL THEN 'unvalidated'
           WHEN d.withdrawal = 'pending' THEN 'withdrawing'
           WHEN v.status = 'withdrawn' THEN 'withdrawn'
           WHEN s.bwid IS NOT NULL AND s.change_seq > v.change_seq THEN 'superseded'
           WHEN v.status <> 'passed' THEN 'returned'
           WHEN s.bwid IS NULL OR s.change_seq <> v.change_seq THEN 'inconsistent'
           WHEN d.change_seq IS NULL THEN 'to_deliver'
           WHEN d.status = 'pending' THEN 'delivering'
           WHEN d.status IN ('rejected', 'failed') THEN 'refused'
           WHEN d.status = 'delivered' AND EXISTS (
               SELECT 1 FROM remote_event e WHERE e.source = d.source AND e.change_seq = d.change_seq AND e.accepted
                 AND e.status IN ('registered', 'certificate_issued', 'refused')) THEN 'closed'
           WHEN d.status = 'delivered' AND EXISTS (
               SELECT 1 FROM remote_event e WHERE e.source = d.source AND e.change_seq = d.change_seq AND e.accepted
                 AND e.status = 'correction') THEN 'correction_requested'
           WHEN d.status = 'delivered' THEN 'at_authority'
           ELSE 'delivery_' || d.status
       END AS state,
       CASE
           WHEN v.change_seq IS NULL THEN p.received_at
           WHEN d.withdrawal = 'pending' THEN d.updated_at
           WHEN d.change_seq IS NULL THEN v.validated_at
           WHEN d.status = 'pending' THEN d.planned_at
           ELSE COALESCE(d.delivered_at, d.updated_at)
       END AS since
FROM remote_package p
LEFT JOIN remote_verdict v ON v.source = p.source AND v.change_seq = p.change_seq
LEFT JOIN remote_package_state s ON s.bwid = v.bwid
LEFT JOIN remote_delivery d ON d.source = p.source AND d.change_seq = p.change_seq
