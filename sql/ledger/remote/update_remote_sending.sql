-- purpose: before a batch goes: from now on the receiver may hold these deliveries.
UPDATE remote_delivery SET first_sent_at = :now, updated_at = :now WHERE idempotency_key IN :keys AND first_sent_at IS NULL
