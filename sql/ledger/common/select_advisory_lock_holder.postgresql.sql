-- purpose: who holds a stage lock (advisory, on PostgreSQL): the holding session's application name, process id and start.
SELECT a.pid, a.application_name, a.backend_start
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND CAST(l.classid AS bigint) = :hi AND CAST(l.objid AS bigint) = :lo
LIMIT 1
