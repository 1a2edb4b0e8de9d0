-- purpose: a work order in force still ready takes its delivery's outcome (delivered / failed).
UPDATE work_order SET status = :s WHERE rowguid = :r AND utility = :u AND version = :v AND status = 'ready'
