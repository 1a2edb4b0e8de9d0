-- purpose: package verdicts in change order — all of them, or one run's (:run_id NULL for all).
SELECT * FROM remote_verdict WHERE (CAST(:run_id AS VARCHAR(250)) IS NULL OR run_id = :run_id) ORDER BY change_seq
