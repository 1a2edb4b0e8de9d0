-- purpose: every delivered work-order version, for checking incoming results against (delivered_at is UTC).
SELECT rowguid, utility, version, channel, destination, delivered_at
FROM delivery
WHERE status = 'delivered'
