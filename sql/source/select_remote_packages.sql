-- purpose: up to :limit remote-collection package changes after a sequence number and written before a time, in sequence order.
SELECT CHANGE_SEQ, CHANGE_TIME, OP, BWID, SQBH, SJDWDM, SJDWMC, SJXZQH, SJSJ, SJRY, YWLX, BDCDYH, BDCQZH, ZL, XZQH
FROM BDC_YDDS_BWXX
WHERE CHANGE_SEQ > :after_seq AND CHANGE_TIME < :before_time
ORDER BY CHANGE_SEQ
LIMIT :limit
