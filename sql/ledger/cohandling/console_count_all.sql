-- purpose: console read model: count every order_status row by county, utility, institution, status and (open only) due date.
INSERT INTO order_status_count (city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status, due_date, n)
SELECT city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status,
       CASE WHEN status IN ('delivered', 'acknowledged') THEN due_date END AS due_date, COUNT(*) AS n
FROM order_status
GROUP BY city_code, city_name, xzqh, county_name, utility, institution_code, institution_name, channel, status,
         CASE WHEN status IN ('delivered', 'acknowledged') THEN due_date END
