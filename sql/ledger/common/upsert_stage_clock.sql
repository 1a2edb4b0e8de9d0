-- purpose: move a product line's clock forward to a stage's as-of; never back (an older as-of leaves it as it is).
INSERT INTO stage_clock (clock, high_water, run_id, updated_at)
VALUES (:clock, :high_water, :run_id, :updated_at)
ON CONFLICT (clock) DO UPDATE
SET high_water = excluded.high_water, run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE excluded.high_water > stage_clock.high_water
