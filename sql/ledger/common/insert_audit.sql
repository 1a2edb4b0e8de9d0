-- purpose: append one entry to the audit log (which refuses changes), chained: its place (seq), the hash it follows (prev) and its own SM3 hash.
INSERT INTO audit_log (at, run_id, actor, action, object_type, object_id, detail, seq, prev, hash)
VALUES (:at, :run_id, :actor, :action, :object_type, :object_id, :detail, :seq, :prev, :hash)
