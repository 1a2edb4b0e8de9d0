-- purpose: put a planned cancellation into its batch.
UPDATE work_order_cancel SET batch_id = :batch_id WHERE rowguid = :r AND utility = :u AND version = :v
