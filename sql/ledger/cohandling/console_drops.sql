-- purpose: console board: the account-mode drops an institution's work orders went to (its drop: exactly one).
SELECT DISTINCT destination FROM order_status WHERE institution_code = :institution_code AND channel = 'account' AND destination IS NOT NULL
