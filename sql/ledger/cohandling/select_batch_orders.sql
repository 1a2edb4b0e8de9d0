-- purpose: the work-order versions of one delivery batch with their Annex 1 fields as received.
SELECT d.rowguid, d.utility, d.version, v.correction,
       r.rowguid AS "ROWGUID",
       r.ycywh AS "YCYWH",
       r.zrfxm AS "ZRFXM",
       r.zrfzjzl AS "ZRFZJZL",
       r.zrfzjhm AS "ZRFZJHM",
       r.zrflxdh AS "ZRFLXDH",
       r.zcfxm AS "ZCFXM",
       r.zcfzjzl AS "ZCFZJZL",
       r.zcfzjhm AS "ZCFZJHM",
       r.zcflxdh AS "ZCFLXDH",
       r.xzqh AS "XZQH",
       r.fwzl AS "FWZL",
       r.fwjzmj AS "FWJZMJ",
       r.bdcqzh AS "BDCQZH",
       r.dbsj AS "DBSJ",
       r.ydhh AS "YDHH",
       r.yshh AS "YSHH",
       r.gsjgbm AS "GSJGBM",
       r.gsjgmc AS "GSJGMC",
       r.yqhh AS "YQHH",
       r.rqjgbm AS "RQJGBM",
       r.rqjgmc AS "RQJGMC",
       r.ynhh AS "YNHH",
       r.grjgbm AS "GRJGBM",
       r.grjgmc AS "GRJGMC"
FROM delivery d
JOIN work_order_version v ON v.rowguid = d.rowguid AND v.utility = d.utility AND v.version = d.version
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
WHERE d.batch_id = :batch_id
ORDER BY d.rowguid, d.utility, d.version
