-- purpose: open dead letters of a surface marked resolved, with why.
UPDATE dead_letter SET status = 'resolved', resolved_at = :now, resolution = :resolution
WHERE surface = :surface AND unit_key IN :keys AND status = 'open'
