-- purpose: every work-order version that was or may have been sent (a result can arrive before the send was recorded), for checking incoming results (delivered_at is UTC).
SELECT rowguid, utility, version, channel, destination, delivered_at
FROM delivery
WHERE status IN ('delivered', 'pending', 'superseded')
