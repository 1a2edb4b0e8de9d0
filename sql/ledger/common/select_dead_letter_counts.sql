-- purpose: dead letters by surface and status, over the whole ledger.
SELECT surface, status, count(*) FROM dead_letter GROUP BY surface, status
