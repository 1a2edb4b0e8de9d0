-- purpose: fix a cancellation batch's manifest hash at its first render.
UPDATE cancel_batch SET sha256 = :sha256 WHERE batch_id = :batch_id
