-- purpose: a file left the inbox (read, refused, or moved aside): its sightings go.
DELETE FROM inbox_sighting WHERE source = :source AND name_key = :name_key
