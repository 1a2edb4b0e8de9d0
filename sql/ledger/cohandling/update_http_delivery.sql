-- purpose: one item's outcome of an HTTP push, on its pending delivery (r, u, v: the work-order version).
UPDATE delivery
SET status = :s, batch_id = :b, attempts = attempts + :n, last_error = :e, receipt = :receipt, delivered_at = :delivered_at, updated_at = :now
WHERE rowguid = :r AND utility = :u AND version = :v AND status = 'pending'
