-- purpose: give an entry written before migration 0017 its place in the chain (migration 0017 only; the log refuses changes otherwise).
UPDATE audit_log SET seq = :seq, prev = :prev, hash = :hash WHERE audit_id = :audit_id
