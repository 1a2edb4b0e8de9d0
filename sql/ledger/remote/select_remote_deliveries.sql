-- purpose: every package delivery, in change order.
SELECT * FROM remote_delivery ORDER BY change_seq
