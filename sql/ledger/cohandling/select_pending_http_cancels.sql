-- purpose: HTTP cancellations not yet answered, by destination.
SELECT * FROM work_order_cancel WHERE status = 'pending' AND channel IN ('system', 'grid') ORDER BY destination, rowguid, utility
