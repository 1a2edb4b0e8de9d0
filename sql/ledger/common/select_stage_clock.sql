-- purpose: a product line's clock: the newest as-of any of its stages has run with (local time).
SELECT high_water, run_id FROM stage_clock WHERE clock = :clock
