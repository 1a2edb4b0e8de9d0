-- purpose: name a delivery batch still open (XB<day>_<number at the institution>, fixed when planned so a retry publishes the same name).
UPDATE delivery_batch SET name = :name WHERE batch_id = :batch_id AND status IN ('planned', 'pending')
