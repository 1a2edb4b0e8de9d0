-- purpose: a held dead letter met again: counted, never a second entry.
UPDATE dead_letter SET last_seen_at = :now, seen_count = seen_count + 1 WHERE dl_id = :dl_id
