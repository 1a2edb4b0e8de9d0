-- purpose: events already accepted for the given idempotency keys (key, status, at).
SELECT idempotency_key, status, at FROM remote_event WHERE accepted AND idempotency_key IN :keys
