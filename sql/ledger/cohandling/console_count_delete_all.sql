-- purpose: console read model: forget every count (a whole refresh counts again in the same transaction).
DELETE FROM order_status_count
