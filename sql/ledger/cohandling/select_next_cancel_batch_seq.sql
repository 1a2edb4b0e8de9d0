-- purpose: the next cancellation batch number at one institution drop (run under the cohandling.deliver stage lock).
SELECT COALESCE(MAX(seq), 0) + 1 FROM cancel_batch WHERE destination = :destination
