-- purpose: the platform's changes after the fence and written before a time, in sequence order (PostgreSQL): above the
-- watermark (:fresh_above), or below it and written at or after the last cut-off (:reread_from) or by a transaction the
-- last reading snapshot could not see (writer id at or above :writer_from, its xmin: a 32-bit id compared by age, which
-- is right across wraparound). The fence (:after_seq) keeps it an index range; see transforms/common/fence.py.
SELECT CHANGE_SEQ, CHANGE_TIME, OP,
       ROWGUID, YCYWH, ZRFXM, ZRFZJZL, ZRFZJHM, ZRFLXDH, ZCFXM, ZCFZJZL, ZCFZJHM, ZCFLXDH, XZQH, FWZL, FWJZMJ, BDCQZH, DBSJ, YDHH, YSHH, GSJGBM, GSJGMC, YQHH, RQJGBM, RQJGMC, YNHH, GRJGBM, GRJGMC
FROM BDC_SDQR_XBXX
WHERE CHANGE_SEQ > :after_seq AND CHANGE_TIME < :before_time
  AND (CHANGE_SEQ > :fresh_above OR CHANGE_TIME >= :reread_from OR age(xmin) <= age(CAST(CAST(:writer_from AS text) AS xid)))
ORDER BY CHANGE_SEQ
