-- purpose: lifetime balance — every package status event an authority sent: counted for tracking (final) or kept with the issue that keeps it out.
SELECT e.feed || ' #' || CAST(e.event_id AS VARCHAR(20)) AS unit, e.bwid AS ref, CASE WHEN e.accepted THEN 'counted' ELSE 'issue' END AS state, e.received_at AS since
FROM remote_event e
