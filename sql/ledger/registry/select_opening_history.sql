-- purpose: every version of one county's opening, oldest first.
SELECT * FROM county_opening WHERE xzqh = :xzqh ORDER BY valid_from, version_id
