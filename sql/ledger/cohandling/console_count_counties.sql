-- purpose: console read model: count the order_status rows of some counties (XZQH) by county, utility, institution, status and (open only) due date — every due date before :cutoff (the refresh's day: overdue for any later reader) counted as one, :past.
INSERT INTO order_status_count (city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status, due_date, n)
SELECT city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status, due_date, COUNT(*) AS n
FROM (
    SELECT city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status,
           CASE WHEN status IN ('delivered', 'acknowledged') THEN CASE WHEN due_date < :cutoff THEN :past ELSE due_date END END AS due_date
    FROM order_status
    WHERE xzqh IN :counties
) s
GROUP BY city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status, due_date
