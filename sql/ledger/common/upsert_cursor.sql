-- purpose: move a feed's cursor, creating it on its first page (an upsert: two collectors starting a feed at once never collide on the key).
INSERT INTO result_source (source, cursor, updated_at)
VALUES (:source, :cursor, :updated_at)
ON CONFLICT (source) DO UPDATE
SET cursor = excluded.cursor, updated_at = excluded.updated_at
