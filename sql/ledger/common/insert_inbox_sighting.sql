-- purpose: a file seen for the first time in a drop's inbox; one already noted (perhaps by another collector at the same moment) is left for update_inbox_sighting.
INSERT INTO inbox_sighting (source, name_key, size, mtime, first_seen_at, stable_since, last_seen_at)
VALUES (:source, :name_key, :size, :mtime, :now, :now, :now)
ON CONFLICT (source, name_key) DO NOTHING
