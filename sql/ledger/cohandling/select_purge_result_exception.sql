-- purpose: the retention purge — the values of the result exceptions :keys, by primary key.
SELECT exception_id, value FROM result_exception WHERE exception_id IN :keys
