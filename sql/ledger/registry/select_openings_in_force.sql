-- purpose: the county openings in force of the given counties.
SELECT * FROM county_opening WHERE xzqh IN :counties AND valid_to IS NULL
