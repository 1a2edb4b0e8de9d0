-- purpose: the dead letter held for one unit of a surface, if any.
SELECT dl_id FROM dead_letter WHERE surface = :surface AND unit_key = :unit_key
