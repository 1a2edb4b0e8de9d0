-- purpose: forget a run's earlier rule failures before it is validated again.
DELETE FROM rule_failure WHERE run_id = :run_id
