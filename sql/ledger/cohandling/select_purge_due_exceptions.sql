-- purpose: the retention purge — result exceptions of the window (:after, :upto] received before :before whose value is not yet purged.
SELECT exception_id FROM result_exception
WHERE exception_id > :after AND exception_id <= :upto AND received_at < :before AND value <> '' AND substr(value, 1, 7) <> 'purged:'
ORDER BY exception_id
