-- purpose: each county's account-mode opening date in force at :at (local time).
SELECT xzqh, open_date FROM county_opening WHERE valid_from <= :at AND (valid_to IS NULL OR valid_to > :at)
