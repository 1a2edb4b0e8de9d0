-- purpose: the changes a run received, in change order (the run's staged data for validation).
SELECT change_seq, op, rowguid, ycywh, zrfxm, zrfzjzl, zrfzjhm, zrflxdh, zcfxm, zcfzjzl, zcfzjhm, zcflxdh, xzqh, fwzl, fwjzmj, bdcqzh, dbsj, ydhh, yshh, gsjgbm, gsjgmc, yqhh, rqjgbm, rqjgmc, ynhh, grjgbm, grjgmc
FROM received_record
WHERE source = :source AND change_seq > :low AND change_seq <= :high AND run_id = :run_id
ORDER BY change_seq
