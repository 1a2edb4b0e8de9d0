-- purpose: one page of the HTTP deliveries not yet confirmed for one receiver (channel, destination), after a work-order key, in key order (the derived table of select_delivery_orders): delivery reads a receiver's backlog a page at a time.
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.attempts FROM delivery d
WHERE d.status = 'pending' AND d.channel = :channel AND d.destination = :destination
  AND (d.rowguid > :after_rowguid
       OR (d.rowguid = :after_rowguid AND (d.utility > :after_utility OR (d.utility = :after_utility AND d.version > :after_version))))
ORDER BY d.rowguid, d.utility, d.version
LIMIT :page_size
