-- purpose: whether a unit of a surface is held as a dead letter (open or resolved).
SELECT count(*) FROM dead_letter WHERE surface = :surface AND unit_key = :unit_key
