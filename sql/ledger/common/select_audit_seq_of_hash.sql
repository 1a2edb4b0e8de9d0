-- purpose: the place of the audit entry with this hash, if one has it (asked only where the chain breaks: no index, one scan).
SELECT MIN(seq) FROM audit_log WHERE hash = :hash
