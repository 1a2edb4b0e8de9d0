-- purpose: how often a dead letter was met, open or resolved.
SELECT seen_count FROM dead_letter WHERE surface = :surface AND unit_key = :unit_key
