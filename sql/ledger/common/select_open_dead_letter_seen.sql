-- purpose: how often an open dead letter was met (none: no row).
SELECT seen_count FROM dead_letter WHERE surface = :surface AND unit_key = :unit_key AND status = 'open'
