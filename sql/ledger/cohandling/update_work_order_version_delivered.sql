-- purpose: a work-order version ready or superseded takes its delivery's outcome in the history (delivered / failed).
UPDATE work_order_version SET status = :s WHERE rowguid = :r AND utility = :u AND version = :v AND status IN ('ready', 'superseded')
