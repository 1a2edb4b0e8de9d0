-- purpose: HTTP deliveries (county systems, the grid) not yet confirmed, with where they go (the derived table of select_delivery_orders).
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.attempts FROM delivery d
WHERE d.status = 'pending' AND d.channel IN ('system', 'grid')
