-- purpose: name a cancellation batch (XBCX<day>_<number at the institution>, fixed when planned).
UPDATE cancel_batch SET name = :name WHERE batch_id = :batch_id
