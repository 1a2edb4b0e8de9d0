-- purpose: cancellations by channel and status (run results, the make run summary, the balance).
SELECT channel, status, COUNT(*) AS n FROM work_order_cancel GROUP BY channel, status ORDER BY channel, status
