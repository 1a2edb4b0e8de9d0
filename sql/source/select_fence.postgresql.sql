-- purpose: what the reading snapshot shows of the co-handling change table (run first in the REPEATABLE READ transaction
-- that reads the changes): the reader's own transaction id (taken after the snapshot), the snapshot's xmin, the highest
-- sequence it sees and the lowest it sees written at or after the cut-off (OFFSET 0 keeps that on the CHANGE_TIME index: as
-- min() over the key it would walk the whole key to find the few late rows). Needs no privilege beyond SELECT.
SELECT CAST(pg_current_xact_id() AS text), CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text),
       (SELECT max(CHANGE_SEQ) FROM BDC_SDQR_XBXX),
       (SELECT min(CHANGE_SEQ) FROM (SELECT CHANGE_SEQ FROM BDC_SDQR_XBXX WHERE CHANGE_TIME >= :before_time OFFSET 0) AS late)
