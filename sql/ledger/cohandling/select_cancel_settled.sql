-- purpose: (ROWGUID, utility) among the given ROWGUIDs whose version in force was settled by a cancellation (cancelled or refused).
SELECT DISTINCT w.rowguid, w.utility
FROM work_order w
JOIN work_order_cancel c ON c.rowguid = w.rowguid AND c.utility = w.utility AND c.cause_version = w.version
WHERE w.rowguid IN :rowguids AND w.status IN ('cancelled', 'cancel_refused')
