-- purpose: console: how many results exceptions are in scope (console_exceptions' filter, whole).
SELECT COUNT(*) FROM result_exception e
WHERE (CAST(:source AS TEXT) IS NULL OR e.source = :source)
  AND (:scoped = 0 OR EXISTS (SELECT 1 FROM order_status s WHERE s.rowguid = e.rowguid
      AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR s.city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR s.xzqh = :xzqh)))
