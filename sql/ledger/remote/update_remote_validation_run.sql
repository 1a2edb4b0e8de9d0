-- purpose: a run's package validation counts after one more page (the sums are made by the caller, in the same transaction).
UPDATE remote_validation_run
SET validated_at = :validated_at, as_of = :as_of, packages_in = :packages_in, passed = :passed, returned = :returned,
    withdrawn = :withdrawn, warnings = :warnings
WHERE run_id = :run_id
