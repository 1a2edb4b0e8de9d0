-- purpose: the audit log in id order, for chaining the entries written before migration 0017.
SELECT audit_id, at, run_id, actor, action, object_type, object_id, detail FROM audit_log ORDER BY audit_id
