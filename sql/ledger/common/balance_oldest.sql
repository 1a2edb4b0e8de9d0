-- purpose: lifetime balance — the oldest units of one surface (the derived table) in :states since before :before.
SELECT unit, ref, state, since FROM (/*inner*/) u
WHERE state IN :states AND since < :before
ORDER BY since
LIMIT :limit
