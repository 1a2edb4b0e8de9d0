-- purpose: console read model: the counties (XZQH) the order_status rows of some ROWGUIDs are in, whose counts a refresh recounts.
SELECT DISTINCT xzqh FROM order_status WHERE rowguid IN :rowguids
