-- purpose: a run's validation counts after one more page (the sums are made by the caller, in the same transaction).
UPDATE validation_run
SET validated_at = :validated_at, as_of = :as_of, records_in = :records_in, passed = :passed, partial = :partial,
    quarantined = :quarantined, warnings = :warnings, docs_path = :docs_path
WHERE run_id = :run_id
