-- purpose: the whole audit log in chain order (entries without a place last), for verifying the chain.
SELECT audit_id, seq, prev, hash, at, run_id, actor, action, object_type, object_id, detail
FROM audit_log
ORDER BY CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq, audit_id
