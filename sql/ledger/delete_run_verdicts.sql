-- purpose: forget a run's earlier verdicts before it is validated again (a re-run replaces them).
DELETE FROM record_verdict WHERE run_id = :run_id
