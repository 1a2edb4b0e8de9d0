-- purpose: console: the first :limit overdue work orders in scope (delivered or acknowledged, due before :today) in the overdue list's order (city, utility, institution, most overdue first, county, YCYWH, ROWGUID).
SELECT rowguid, utility, version, CASE WHEN status IN ('delivered', 'acknowledged') AND due_date < :today THEN 'overdue' ELSE status END AS status, due_date, delivered_at, handled_at, result_code, channel, destination,
       institution_code, institution_name, xzqh, county_name, city_code, city_name, platform_no
FROM order_status
WHERE status IN ('delivered', 'acknowledged') AND due_date < :today
  AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR xzqh = :xzqh)
  AND (CAST(:institution_code AS VARCHAR(32)) IS NULL OR institution_code = :institution_code) AND (CAST(:utility AS VARCHAR(16)) IS NULL OR utility = :utility)
  AND (CAST(:utility_rank AS INTEGER) IS NULL OR utility_rank = :utility_rank)
ORDER BY city_code, utility_rank, institution_code NULLS LAST, institution_name, due_date, xzqh, platform_no NULLS LAST, rowguid
LIMIT :limit
