-- purpose: move a feed's cursor.
UPDATE result_source SET cursor = :cursor, updated_at = :updated_at WHERE source = :source
