-- purpose: the retention purge — the personal columns of every version received of the ROWGUIDs :keys, by primary key.
SELECT source, change_seq, zrfxm, zrfzjhm, zrflxdh, zcfxm, zcfzjhm, zcflxdh FROM received_record WHERE rowguid IN :keys
