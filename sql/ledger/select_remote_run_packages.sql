-- purpose: the remote-collection package versions a run received, in change order (exchange names, upper case).
SELECT change_seq AS "CHANGE_SEQ", op AS "OP", bwid AS "BWID", sqbh AS "SQBH", sjdwdm AS "SJDWDM", sjdwmc AS "SJDWMC", sjxzqh AS "SJXZQH",
       sjsj AS "SJSJ", sjry AS "SJRY", ywlx AS "YWLX", bdcdyh AS "BDCDYH", bdcqzh AS "BDCQZH", zl AS "ZL", xzqh AS "XZQH"
FROM remote_package
WHERE source = :source AND run_id = :run_id
ORDER BY change_seq
