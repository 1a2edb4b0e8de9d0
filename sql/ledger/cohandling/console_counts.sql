-- purpose: console: work orders in scope by city, county, utility, institution and status as of :today (overdue derived: delivered or acknowledged and due before :today) — every count a page shows.
SELECT city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status, SUM(n) AS n
FROM (
    SELECT city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, n,
           CASE WHEN status IN ('delivered', 'acknowledged') AND due_date < :today THEN 'overdue' ELSE status END AS status
    FROM order_status_count
    WHERE (CAST(:city_code AS VARCHAR(6)) IS NULL OR city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR xzqh = :xzqh)
      AND (CAST(:institution_code AS VARCHAR(32)) IS NULL OR institution_code = :institution_code) AND (CAST(:utility AS VARCHAR(16)) IS NULL OR utility = :utility)
) c
GROUP BY city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status
