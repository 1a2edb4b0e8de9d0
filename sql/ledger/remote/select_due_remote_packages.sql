-- purpose: remote-collection package versions received and not yet validated — whichever run received them — in change order, one page at a time (exchange names, upper case).
SELECT p.change_seq AS "CHANGE_SEQ", p.op AS "OP", p.bwid AS "BWID", p.sqbh AS "SQBH", p.sjdwdm AS "SJDWDM", p.sjdwmc AS "SJDWMC", p.sjxzqh AS "SJXZQH",
       p.sjsj AS "SJSJ", p.sjry AS "SJRY", p.ywlx AS "YWLX", p.bdcdyh AS "BDCDYH", p.bdcqzh AS "BDCQZH", p.zl AS "ZL", p.xzqh AS "XZQH", p.run_id AS received_by
FROM remote_package p
WHERE p.source = :source AND p.change_seq > :after
  AND NOT EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = p.source AND v.change_seq = p.change_seq)
ORDER BY p.change_seq
LIMIT :page_size
