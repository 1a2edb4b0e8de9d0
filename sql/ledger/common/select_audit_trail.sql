-- purpose: the audit log, oldest first — all of it, or one run's (:run_id NULL for all).
SELECT * FROM audit_log WHERE (CAST(:run_id AS VARCHAR(250)) IS NULL OR run_id = :run_id) ORDER BY audit_id
