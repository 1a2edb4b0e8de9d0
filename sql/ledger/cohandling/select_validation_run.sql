-- purpose: one run's validation counts (every page it validated).
SELECT run_id, validated_at, as_of, records_in, passed, partial, quarantined, warnings, docs_path FROM validation_run WHERE run_id = :run_id
