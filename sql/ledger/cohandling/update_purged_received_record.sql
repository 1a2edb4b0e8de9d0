-- purpose: the retention purge — one received version's personal columns written back purged (nothing else).
UPDATE received_record SET zrfxm = :v_zrfxm, zrfzjhm = :v_zrfzjhm, zrflxdh = :v_zrflxdh, zcfxm = :v_zcfxm, zcfzjhm = :v_zcfzjhm, zcflxdh = :v_zcflxdh
WHERE source = :k_source AND change_seq = :k_change_seq
