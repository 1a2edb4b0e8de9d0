-- purpose: whether this session still holds a stage lock (the keeper's check while a stage runs).
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
  AND CAST(classid AS bigint) = :hi AND CAST(objid AS bigint) = :lo AND objsubid = 1
