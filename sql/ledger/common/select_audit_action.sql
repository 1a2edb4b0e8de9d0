-- purpose: the audit log's entries of one action (e.g. every routing run), oldest first.
SELECT * FROM audit_log WHERE action = :action ORDER BY audit_id
