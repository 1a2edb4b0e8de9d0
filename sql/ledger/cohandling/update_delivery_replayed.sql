-- purpose: a delivered work-order version sent again on purpose (replay): the attempts spent added, status, receipt and delivery time kept.
UPDATE delivery SET attempts = attempts + :n
WHERE rowguid = :r AND utility = :u AND version = :v AND status = 'delivered'
