-- purpose: a file seen again in a drop's inbox: its size, mtime, since when stable, last seen.
UPDATE inbox_sighting SET size = :size, mtime = :mtime, stable_since = :stable_since, last_seen_at = :last_seen_at
WHERE source = :source AND name_key = :name_key
