-- purpose: forget a run's remote-collection rule failures before it validates again.
DELETE FROM remote_failure WHERE run_id = :run_id
