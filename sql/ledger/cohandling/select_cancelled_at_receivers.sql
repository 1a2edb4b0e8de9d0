-- purpose: every confirmed cancellation with its receiver (destination, rowguid, utility, version).
SELECT destination, rowguid, utility, version FROM work_order_cancel WHERE status = 'cancelled'
