-- purpose: every delivery, by work-order version.
SELECT * FROM delivery ORDER BY rowguid, utility, version
