-- purpose: an HTTP delivery not yet confirmed whose work-order version is no longer in force (a correction replaced it) is not sent.
UPDATE delivery
SET status = 'superseded', updated_at = :now
WHERE status = 'pending' AND channel IN ('system', 'grid')
  AND NOT EXISTS (
      SELECT 1 FROM work_order w
      WHERE w.rowguid = delivery.rowguid AND w.utility = delivery.utility AND w.version = delivery.version
  )
