-- purpose: console: which of some ROWGUIDs have a work order in scope (an institution's exceptions about another's work order are redacted).
SELECT DISTINCT rowguid FROM order_status
WHERE rowguid IN :rowguids
  AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR xzqh = :xzqh)
  AND (CAST(:institution_code AS VARCHAR(32)) IS NULL OR institution_code = :institution_code) AND (CAST(:utility AS VARCHAR(16)) IS NULL OR utility = :utility)
