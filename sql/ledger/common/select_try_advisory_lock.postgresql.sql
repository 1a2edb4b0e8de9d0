-- purpose: take a stage lock (a session-level advisory lock on its 64-bit key) if it is free; true when taken.
SELECT pg_try_advisory_lock(CAST(:key AS bigint))
