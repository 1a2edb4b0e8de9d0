-- purpose: release a stage lock this session holds (the server releases it anyway when the session ends).
SELECT pg_advisory_unlock(CAST(:key AS bigint))
