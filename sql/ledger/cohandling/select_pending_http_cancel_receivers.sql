-- purpose: the HTTP receivers (county systems, the grid) with cancellations not yet answered, and how many each, by destination.
SELECT channel, destination, COUNT(*) AS n FROM work_order_cancel
WHERE status = 'pending' AND channel IN ('system', 'grid')
GROUP BY channel, destination
ORDER BY destination, channel
