-- purpose: every delivered work-order version with its receiver (destination, rowguid, utility, version).
SELECT destination, rowguid, utility, version FROM delivery WHERE status = 'delivered'
