-- purpose: the deliveries the given idempotency keys name (a page of events).
SELECT idempotency_key, source, change_seq, bwid, destination, status, first_sent_at FROM remote_delivery WHERE idempotency_key IN :keys
