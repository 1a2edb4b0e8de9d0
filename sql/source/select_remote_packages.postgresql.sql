-- purpose: up to :limit remote-collection package changes after the fence and written before a time, in sequence order
-- (PostgreSQL): above the watermark (:fresh_above), or below it and written at or after the last cut-off (:reread_from)
-- or by a transaction the last reading snapshot could not see (writer id at or above :writer_from, compared by age).
SELECT CHANGE_SEQ, CHANGE_TIME, OP, BWID, SQBH, SJDWDM, SJDWMC, SJXZQH, SJSJ, SJRY, YWLX, BDCDYH, BDCQZH, ZL, XZQH
FROM BDC_YDDS_BWXX
WHERE CHANGE_SEQ > :after_seq AND CHANGE_TIME < :before_time
  AND (CHANGE_SEQ > :fresh_above OR CHANGE_TIME >= :reread_from OR age(xmin) <= age(CAST(CAST(:writer_from AS text) AS xid)))
ORDER BY CHANGE_SEQ
LIMIT :limit
