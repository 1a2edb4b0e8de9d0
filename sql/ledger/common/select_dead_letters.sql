-- purpose: dead letters without payloads, newest first — of one surface and / or one status, or all (a NULL filter takes all).
SELECT dl_id, surface, unit_key, origin, location, rule_id, reason, owner, run_id, payload_size, payload_sha256,
       first_seen_at, last_seen_at, seen_count, status, resolved_at, resolution
FROM dead_letter
WHERE (CAST(:surface AS VARCHAR(40)) IS NULL OR surface = :surface) AND (CAST(:status AS VARCHAR(16)) IS NULL OR status = :status)
ORDER BY dl_id DESC
