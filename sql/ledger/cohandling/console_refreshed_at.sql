-- purpose: console read model: when it was last refreshed (UTC; NULL: never, it is empty) and whether the ledger has any work order (an empty read model over work orders is filled whole).
SELECT (SELECT MAX(refreshed_at) FROM order_status) AS refreshed_at,
       (SELECT COUNT(*) FROM (SELECT 1 AS one FROM work_order_version LIMIT 1) w) AS has_orders
