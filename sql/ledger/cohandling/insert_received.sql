-- purpose: keep every staged (re-read) change exactly once; one already held (same source and sequence) is ignored.
INSERT INTO received_record (source, change_seq, change_time, op, rowguid, ycywh, zrfxm, zrfzjzl, zrfzjhm, zrflxdh, zcfxm, zcfzjzl, zcfzjhm, zcflxdh, xzqh, fwzl, fwjzmj, bdcqzh, dbsj, ydhh, yshh, gsjgbm, gsjgmc, yqhh, rqjgbm, rqjgmc, ynhh, grjgbm, grjgmc, run_id, received_at)
SELECT source, change_seq, change_time, op, rowguid, ycywh, zrfxm, zrfzjzl, zrfzjhm, zrflxdh, zcfxm, zcfzjzl, zcfzjhm, zcflxdh, xzqh, fwzl, fwjzmj, bdcqzh, dbsj, ydhh, yshh, gsjgbm, gsjgmc, yqhh, rqjgbm, rqjgmc, ynhh, grjgbm, grjgmc, run_id, received_at
FROM stage_received
WHERE true
ON CONFLICT (source, change_seq) DO NOTHING
