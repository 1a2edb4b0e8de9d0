-- purpose: the same move in the work-order history (s), only from one of the states it may leave (from_1, from_2).
UPDATE work_order_version SET status = :s WHERE rowguid = :r AND utility = :u AND version = :v AND status IN (:from_1, :from_2)
