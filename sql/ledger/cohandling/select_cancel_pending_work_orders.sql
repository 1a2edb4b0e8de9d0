-- purpose: work orders in force waiting for their cancellations to be answered.
SELECT rowguid, utility, version, reason_code FROM work_order WHERE status = 'cancel_pending'
