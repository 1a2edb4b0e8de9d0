-- purpose: a delivered package version sent again on purpose (replay): the attempts spent added, status, receipt and delivery time kept.
UPDATE remote_delivery SET attempts = attempts + :attempts WHERE idempotency_key = :idempotency_key AND status = 'delivered'
