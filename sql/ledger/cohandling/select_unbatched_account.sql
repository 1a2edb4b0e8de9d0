-- purpose: account-mode deliveries not yet in a batch, by institution drop and file format (one batch each).
SELECT d.destination, COALESCE(v.file_format, 'csv') AS file_format, COUNT(*) AS records
FROM delivery d
JOIN work_order_version v ON v.rowguid = d.rowguid AND v.utility = d.utility AND v.version = d.version
WHERE d.channel = 'account' AND d.batch_id IS NULL AND d.status = 'pending'
GROUP BY d.destination, COALESCE(v.file_format, 'csv')
ORDER BY d.destination, 2
