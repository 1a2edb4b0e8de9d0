-- purpose: changes received and not yet validated — whichever run received them — in change order, one page at a time (validation works from the ledger's state, not from its run).
SELECT r.change_seq, r.op, r.rowguid, r.ycywh, r.zrfxm, r.zrfzjzl, r.zrfzjhm, r.zrflxdh, r.zcfxm, r.zcfzjzl, r.zcfzjhm, r.zcflxdh, r.xzqh, r.fwzl, r.fwjzmj,
       r.bdcqzh, r.dbsj, r.ydhh, r.yshh, r.gsjgbm, r.gsjgmc, r.yqhh, r.rqjgbm, r.rqjgmc, r.ynhh, r.grjgbm, r.grjgmc, r.run_id
FROM received_record r
WHERE r.source = :source AND r.change_seq > :after
  AND NOT EXISTS (SELECT 1 FROM record_verdict v WHERE v.source = r.source AND v.change_seq = r.change_seq)
ORDER BY r.change_seq
LIMIT :page_size
