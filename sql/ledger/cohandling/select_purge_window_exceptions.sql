-- purpose: the retention purge — the next window of result exceptions after :after (the last id of the :limit next ones, and how many).
SELECT max(w.exception_id) AS upto, count(*) AS n FROM (SELECT exception_id FROM result_exception WHERE exception_id > :after ORDER BY exception_id LIMIT :limit) w
