-- purpose: console read model: forget the counts of the counties (XZQH) a refresh touched (counted again in the same transaction).
DELETE FROM order_status_count WHERE xzqh IN :counties
