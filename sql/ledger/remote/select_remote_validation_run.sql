-- purpose: one run's package validation counts (every page it validated).
SELECT run_id, validated_at, as_of, packages_in, passed, returned, withdrawn, warnings FROM remote_validation_run WHERE run_id = :run_id
