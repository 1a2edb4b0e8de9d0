-- purpose: HTTP deliveries (county systems, the grid) not yet confirmed, with their Annex 1 fields, by destination.
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.attempts, v.correction,
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
WHERE d.status = 'pending' AND d.channel IN ('system', 'grid')
ORDER BY d.destination, d.rowguid, d.utility, d.version
