-- purpose: every cancellation, by work-order version.
SELECT * FROM work_order_cancel ORDER BY rowguid, utility, version
