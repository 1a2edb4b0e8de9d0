-- purpose: the retention purge — the next window of packages after :after (the last BWID of the :limit next ones, in key order, and how many).
SELECT max(w.bwid) AS upto, count(*) AS n FROM (SELECT bwid FROM remote_package_state WHERE bwid > :after ORDER BY bwid LIMIT :limit) w
