-- purpose: append one entry to the audit log (which refuses changes).
INSERT INTO audit_log (at, run_id, actor, action, object_type, object_id, detail)
VALUES (:at, :run_id, :actor, :action, :object_type, :object_id, :detail)
