-- purpose: the HTTP receivers (county systems, the grid) with deliveries not yet confirmed, and how many each, by destination.
SELECT channel, destination, COUNT(*) AS n FROM delivery
WHERE status = 'pending' AND channel IN ('system', 'grid')
GROUP BY channel, destination
ORDER BY destination, channel
