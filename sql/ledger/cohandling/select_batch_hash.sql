-- purpose: a delivery batch's manifest hash (NULL until its first render).
SELECT sha256 FROM delivery_batch WHERE batch_id = :batch_id
