-- purpose: the retention purge — one result exception's value written back purged (nothing else).
UPDATE result_exception SET value = :v_value WHERE exception_id = :k_exception_id
