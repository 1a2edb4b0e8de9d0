-- purpose: delivery states by channel (the make run summary, reconciliation).
SELECT channel, status, COUNT(*) AS n FROM delivery GROUP BY channel, status ORDER BY channel, status
