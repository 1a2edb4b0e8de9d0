-- purpose: a delivered account-mode batch published again on purpose (replay): one more attempt, status and delivery time kept.
UPDATE delivery_batch SET attempts = attempts + 1 WHERE batch_id = :batch_id AND status = 'delivered'
