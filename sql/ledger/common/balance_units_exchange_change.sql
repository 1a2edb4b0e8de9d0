-- purpose: lifetime balance — every exchange change received, each in exactly one state (by its verdict, its record's version in force and routing), with since when.
SELECT r.source || '#' || CAST(r.change_seq AS VARCHAR(20)) AS unit, r.rowguid AS ref,
       CASE
           WHEN v.change_seq IS NULL THEN 'unvalidated'
           WHEN v.status = 'duplicate' THEN 'duplicate'
           WHEN v.status = 'withdrawn' THEN 'withdrawn'
           WHEN s.rowguid IS NULL THEN CASE WHEN v.status IN ('passed', 'partial') THEN 'inconsistent' ELSE 'quarantined' END
           WHEN s.source <> v.source OR s.change_seq > v.change_seq THEN 'superseded'
           WHEN s.change_seq < v.change_seq THEN 'inconsistent'
           WHEN v.status IN ('passed', 'partial') AND (s.routed_seq IS NULL OR s.routed_seq <> s.change_seq) THEN 'unrouted'
           WHEN v.status IN ('passed', 'partial') THEN 'routed'
           ELSE 'quarantined'
       END AS state,
       CASE WHEN v.change_seq IS NULL THEN r.received_at ELSE v.validated_at END AS since
FROM received_record r
LEFT JOIN record_verdict v ON v.source = r.source AND v.change_seq = r.change_seq
LEFT JOIN record_state s ON s.rowguid = v.rowguid
