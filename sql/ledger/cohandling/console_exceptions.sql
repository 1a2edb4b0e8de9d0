-- purpose: console: the newest :limit results exceptions in scope — from one source (an institution's drop) when :source is given, about work orders in scope when :scoped = 1.
SELECT * FROM result_exception e
WHERE (CAST(:source AS TEXT) IS NULL OR e.source = :source)
  AND (:scoped = 0 OR EXISTS (SELECT 1 FROM order_status s WHERE s.rowguid = e.rowguid
      AND (CAST(:city_code AS VARCHAR(6)) IS NULL OR s.city_code = :city_code) AND (CAST(:xzqh AS VARCHAR(6)) IS NULL OR s.xzqh = :xzqh)))
ORDER BY e.received_at DESC, e.exception_id
LIMIT :limit
