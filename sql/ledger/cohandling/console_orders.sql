-- purpose: console board: the first :limit work orders in scope with one status as of :today (overdue derived: each status's condition written out, so the index on (scope, status, due_date) finds them), soonest due first.
SELECT rowguid, utility, version, CASE WHEN status IN ('delivered', 'acknowledged') AND due_date < :today THEN 'overdue' ELSE status END AS status, due_date, delivered_at, handled_at, result_code, channel, destination,
       institution_code, institution_name, xzqh, county_name, city_code, city_name, platform_no
FROM order_status
WHERE ((:status = 'overdue' AND status IN ('delivered', 'acknowledged') AND due_date < :today)
       OR (:status IN ('delivered', 'acknowledged') AND status = :status AND (due_date IS NULL OR due_date >= :today))
       OR (:status NOT IN ('overdue', 'delivered', 'acknowledged') AND status = :status))
  AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR xzqh = :xzqh)
  AND (CAST(:institution_code AS VARCHAR(32)) IS NULL OR institution_code = :institution_code) AND (CAST(:utility AS VARCHAR(16)) IS NULL OR utility = :utility)
ORDER BY due_date, rowguid, utility
LIMIT :limit
