-- purpose: a work order in force moves between cancellation states (s), only from one of the states it may leave (from_1, from_2).
UPDATE work_order SET status = :s WHERE rowguid = :r AND utility = :u AND version = :v AND status IN (:from_1, :from_2)
