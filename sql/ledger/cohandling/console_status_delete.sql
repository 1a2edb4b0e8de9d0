-- purpose: console read model: forget the order_status rows of the ROWGUIDs refreshed (written again in the same transaction).
DELETE FROM order_status WHERE rowguid IN :rowguids
