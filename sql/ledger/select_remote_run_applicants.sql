-- purpose: the applicants of the package versions a run received (exchange names, upper case).
SELECT a.change_seq AS "CHANGE_SEQ", a.xh AS "XH", a.bwid AS "BWID", a.sqrxm AS "SQRXM", a.zjzl AS "ZJZL", a.zjhm AS "ZJHM", a.sqrlb AS "SQRLB",
       a.hyddm AS "HYDDM", a.hyxzqh AS "HYXZQH", a.sfzdq AS "SFZDQ", a.htjc AS "HTJC", a.zwcj AS "ZWCJ", a.dzqm AS "DZQM",
       a.wxjlbh AS "WXJLBH", a.hysj AS "HYSJ"
FROM remote_applicant a
JOIN remote_package p ON p.source = a.source AND p.change_seq = a.change_seq
WHERE p.source = :source AND p.run_id = :run_id
ORDER BY a.change_seq, a.xh
