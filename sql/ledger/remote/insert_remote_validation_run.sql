-- purpose: start a run's package validation counts with its first page.
INSERT INTO remote_validation_run (run_id, validated_at, as_of, packages_in, passed, returned, withdrawn, warnings)
VALUES (:run_id, :validated_at, :as_of, :packages_in, :passed, :returned, :withdrawn, :warnings)
