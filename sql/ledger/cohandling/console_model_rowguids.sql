-- purpose: console read model: how many ROWGUIDs it holds (a refresh goes whole only when the touched are a large share of them).
SELECT COUNT(DISTINCT rowguid) FROM order_status
