-- purpose: institutions in force (all, account mode, system mode) and counties with an account-mode opening in force.
SELECT (SELECT count(*) FROM institution WHERE valid_to IS NULL) AS institutions,
       (SELECT count(*) FROM institution WHERE valid_to IS NULL AND channel = 'account') AS account,
       (SELECT count(*) FROM institution WHERE valid_to IS NULL AND channel = 'system') AS system,
       (SELECT count(*) FROM county_opening WHERE valid_to IS NULL) AS open_counties
