-- purpose: console board: one work order by its key (ROWGUID, utility, version) in scope, its status as of :today (overdue derived).
SELECT rowguid, utility, version, CASE WHEN status IN ('delivered', 'acknowledged') AND due_date < :today THEN 'overdue' ELSE status END AS status, due_date, delivered_at, handled_at, result_code, channel, destination,
       institution_code, institution_name, xzqh, county_name, city_code, city_name, platform_no
FROM order_status
WHERE rowguid = :rowguid AND utility = :utility AND version = :version
  AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR xzqh = :xzqh)
  AND (CAST(:institution_code AS VARCHAR(32)) IS NULL OR institution_code = :institution_code) AND (CAST(:utility AS VARCHAR(16)) IS NULL OR utility = :utility)
