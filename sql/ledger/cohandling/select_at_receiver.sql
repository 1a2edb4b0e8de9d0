-- purpose: (ROWGUID, utility) of the given ROWGUIDs that a receiver holds or may hold: a version delivered, sent over HTTP and not confirmed, or in a rendered account batch — and not cancelled there since (routing: withdrawn → cancel_pending).
SELECT DISTINCT d.rowguid, d.utility
FROM delivery d
WHERE d.rowguid IN :rowguids
  AND (d.status = 'delivered'
       OR (d.status IN ('pending', 'superseded') AND d.channel IN ('system', 'grid') AND d.attempts > 0)
       OR (d.status = 'pending' AND d.channel = 'account' AND d.batch_id IN (SELECT b.batch_id FROM delivery_batch b WHERE b.sha256 IS NOT NULL)))
  AND NOT EXISTS (
      SELECT 1 FROM work_order_cancel c
      WHERE c.rowguid = d.rowguid AND c.utility = d.utility AND c.destination = d.destination AND c.version >= d.version
  )
