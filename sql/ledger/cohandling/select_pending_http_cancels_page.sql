-- purpose: one page of one receiver's HTTP cancellations not yet answered, after a work-order key, in key order: delivery sends a receiver's cancellations a page at a time.
SELECT * FROM work_order_cancel
WHERE status = 'pending' AND channel = :channel AND destination = :destination
  AND (rowguid > :after_rowguid
       OR (rowguid = :after_rowguid AND (utility > :after_utility OR (utility = :after_utility AND version > :after_version))))
ORDER BY rowguid, utility, version
LIMIT :page_size
