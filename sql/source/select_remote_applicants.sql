-- purpose: the applicants of the package changes in a sequence range (low, high], in order.
SELECT CHANGE_SEQ, XH, BWID, SQRXM, ZJZL, ZJHM, SQRLB, HYDDM, HYXZQH, SFZDQ, HTJC, ZWCJ, DZQM, WXJLBH, HYSJ
FROM BDC_YDDS_SQR
WHERE CHANGE_SEQ > :low AND CHANGE_SEQ <= :high
ORDER BY CHANGE_SEQ, XH
