-- purpose: withdrawals to tell the receivers, by destination.
SELECT idempotency_key, bwid, change_seq, destination, withdrawal_reason FROM remote_delivery WHERE withdrawal = 'pending' ORDER BY destination, change_seq
