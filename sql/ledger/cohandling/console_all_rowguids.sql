-- purpose: console read model: every ROWGUID with a work order (a whole refresh reconciles them a chunk at a time).
SELECT DISTINCT rowguid FROM work_order_version ORDER BY rowguid
