-- purpose: console read model: the ROWGUIDs whose work orders changed since :since (UTC) — routed, delivered, cancelled, a result or an outcome recorded — for the refresh of their order_status rows.
SELECT rowguid FROM work_order_version WHERE routed_at > :since
UNION SELECT rowguid FROM delivery WHERE updated_at > :since
UNION SELECT rowguid FROM work_order_cancel WHERE updated_at > :since
UNION SELECT rowguid FROM handling_result WHERE received_at > :since
UNION SELECT rowguid FROM work_order_outcome WHERE updated_at > :since
