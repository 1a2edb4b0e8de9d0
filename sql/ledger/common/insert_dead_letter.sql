-- purpose: keep one bad unit as received; a unit already held (same surface and key, perhaps kept by another run at the same moment) is left for update_dead_letter_seen.
INSERT INTO dead_letter (surface, unit_key, origin, location, rule_id, reason, payload, payload_size, payload_sha256, owner, run_id, first_seen_at, last_seen_at, seen_count, status)
VALUES (:surface, :unit_key, :origin, :location, :rule_id, :reason, :payload, :payload_size, :payload_sha256, :owner, :run_id, :first_seen_at, :last_seen_at, 1, 'open')
ON CONFLICT (surface, unit_key) DO NOTHING
