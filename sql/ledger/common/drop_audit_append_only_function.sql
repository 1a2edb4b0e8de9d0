-- purpose: remove the audit log's append-only trigger function on PostgreSQL (the demo's and tests' fresh start; SQLite has none).
DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE
