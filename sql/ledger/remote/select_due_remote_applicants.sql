-- purpose: the applicants of a page of package versions due for validation (the versions in the change range not yet validated; exchange names, upper case).
SELECT a.change_seq AS "CHANGE_SEQ", a.xh AS "XH", a.bwid AS "BWID", a.sqrxm AS "SQRXM", a.zjzl AS "ZJZL", a.zjhm AS "ZJHM", a.sqrlb AS "SQRLB",
       a.hyddm AS "HYDDM", a.hyxzqh AS "HYXZQH", a.sfzdq AS "SFZDQ", a.htjc AS "HTJC", a.zwcj AS "ZWCJ", a.dzqm AS "DZQM",
       a.wxjlbh AS "WXJLBH", a.hysj AS "HYSJ"
FROM remote_applicant a
WHERE a.source = :source AND a.change_seq >= :low AND a.change_seq <= :high
  AND NOT EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = a.source AND v.change_seq = a.change_seq)
ORDER BY a.change_seq, a.xh
