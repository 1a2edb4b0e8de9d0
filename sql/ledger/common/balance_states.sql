-- purpose: lifetime balance — one surface's units (the derived table, its balance_units_<surface> statement) counted by state, with the oldest and how many are older than :stale_before.
SELECT state, count(*) AS n, min(since) AS oldest, sum(CASE WHEN since < :stale_before THEN 1 ELSE 0 END) AS stale
FROM (/*inner*/) u
GROUP BY state
