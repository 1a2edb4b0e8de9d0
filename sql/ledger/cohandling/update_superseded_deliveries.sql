-- purpose: a pending delivery whose work-order version is no longer in force (a correction or withdrawal replaced it) is not sent — unless its account batch was already rendered and may be out.
UPDATE delivery
SET status = 'superseded', batch_id = NULL, updated_at = :now
WHERE status = 'pending'
  AND (channel IN ('system', 'grid')
       OR batch_id IS NULL
       OR batch_id IN (SELECT b.batch_id FROM delivery_batch b WHERE b.sha256 IS NULL))
  AND NOT EXISTS (
      SELECT 1 FROM work_order w
      WHERE w.rowguid = delivery.rowguid AND w.utility = delivery.utility AND w.version = delivery.version
  )
