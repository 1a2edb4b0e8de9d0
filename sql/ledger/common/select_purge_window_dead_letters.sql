-- purpose: the retention purge — the next window of dead letters after :after (the last id of the :limit next ones, and how many).
SELECT max(w.dl_id) AS upto, count(*) AS n FROM (SELECT dl_id FROM dead_letter WHERE dl_id > :after ORDER BY dl_id LIMIT :limit) w
