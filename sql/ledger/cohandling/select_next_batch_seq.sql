-- purpose: the next account-mode batch number at one institution drop (run under the cohandling.deliver stage lock).
SELECT COALESCE(MAX(seq), 0) + 1 FROM delivery_batch WHERE channel = 'account' AND destination = :destination
