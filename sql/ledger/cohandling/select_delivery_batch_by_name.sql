-- purpose: one delivery batch by its name (account: the batch directory; replay), or by its id.
SELECT * FROM delivery_batch WHERE name = :name OR batch_id = :batch_id ORDER BY batch_id
