-- purpose: fix a delivery batch's manifest hash at its first render.
UPDATE delivery_batch SET sha256 = :sha256 WHERE batch_id = :batch_id
