-- purpose: name a cancellation batch (XBCX<day>_<id>, fixed when planned).
UPDATE cancel_batch SET name = :name WHERE batch_id = :batch_id
