-- purpose: every run's validation counts.
SELECT run_id, validated_at, as_of, records_in, passed, partial, quarantined, warnings, docs_path FROM validation_run
