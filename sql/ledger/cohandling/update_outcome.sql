-- purpose: a work-order version's outcome after newly accepted results (k_: its key, v_: the new values).
UPDATE work_order_outcome
SET acknowledged_at = :v_acknowledged_at, result = :v_result, code = :v_code, reason = :v_reason, handled_at = :v_handled_at,
    handler = :v_handler, source = :v_source, updated_at = :v_updated_at
WHERE rowguid = :k_rowguid AND utility = :k_utility AND version = :k_version
