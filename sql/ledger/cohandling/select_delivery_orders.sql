-- purpose: deliveries (the derived table, a delivery_orders_<which> statement: one batch's, or the HTTP ones pending) with their work-order versions' Annex 1 fields as received, in work-order key order.
SELECT d.*, v.correction,
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
FROM (/*inner*/) d
JOIN work_order_version v ON v.rowguid = d.rowguid AND v.utility = d.utility AND v.version = d.version
JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
ORDER BY d.rowguid, d.utility, d.version
