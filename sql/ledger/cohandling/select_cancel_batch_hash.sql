-- purpose: a cancellation batch's manifest hash (NULL until its first render).
SELECT sha256 FROM cancel_batch WHERE batch_id = :batch_id
