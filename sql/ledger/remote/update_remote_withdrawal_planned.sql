-- purpose: a receiver is to be told to stop a version it may hold, with the reason it reads.
UPDATE remote_delivery SET withdrawal = 'pending', withdrawal_reason = :withdrawal_reason, updated_at = :now
WHERE source = :source AND change_seq = :change_seq
