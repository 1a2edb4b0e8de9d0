-- purpose: a resolved dead letter met again is reopened, counting from 1 (an operator had it read again and it failed again).
UPDATE dead_letter SET status = 'open', resolved_at = NULL, resolution = NULL, seen_count = 1
WHERE surface = :surface AND unit_key = :unit_key AND status = 'resolved'
