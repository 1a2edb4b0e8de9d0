-- purpose: the retention purge — the next window of records after :after (the last ROWGUID of the :limit next ones, in key order, and how many): a batch examines exactly these, so a purge walks the ledger once whatever is due.
SELECT max(w.rowguid) AS upto, count(*) AS n FROM (SELECT rowguid FROM record_state WHERE rowguid > :after ORDER BY rowguid LIMIT :limit) w
