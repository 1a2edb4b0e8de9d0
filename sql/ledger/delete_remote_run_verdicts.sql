-- purpose: forget a run's remote-collection verdicts before it validates again (a re-run replaces, never adds).
DELETE FROM remote_verdict WHERE run_id = :run_id
