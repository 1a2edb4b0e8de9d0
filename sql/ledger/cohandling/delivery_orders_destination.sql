-- purpose: the work-order versions delivered to one destination (an institution's drop; the derived table of select_delivery_orders): what the web console's board lets the institution download again.
SELECT d.rowguid, d.utility, d.version FROM delivery d
WHERE d.destination = :destination AND d.status = 'delivered'
