-- purpose: start a run's validation counts with its first page.
INSERT INTO validation_run (run_id, validated_at, as_of, records_in, passed, partial, quarantined, warnings, docs_path)
VALUES (:run_id, :validated_at, :as_of, :records_in, :passed, :partial, :quarantined, :warnings, :docs_path)
