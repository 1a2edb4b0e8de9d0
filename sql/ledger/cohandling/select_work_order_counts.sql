-- purpose: work orders in force by channel and status (the make run summary, reconciliation).
SELECT COALESCE(channel, '') AS channel, status, COUNT(*) AS n
FROM work_order
GROUP BY COALESCE(channel, ''), status
ORDER BY 1, 2
