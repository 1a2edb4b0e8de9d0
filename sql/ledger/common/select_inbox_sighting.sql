-- purpose: what is known of a file seen in a drop's inbox (size, mtime, since when).
SELECT * FROM inbox_sighting WHERE source = :source AND name_key = :name_key
