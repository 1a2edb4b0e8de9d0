-- purpose: which of the ROWGUIDs :rowguids have a version whose personal data was purged (a replay refuses them).
SELECT DISTINCT rowguid FROM received_record
WHERE rowguid IN :rowguids AND (substr(zrfxm, 1, 7) = 'purged:' OR substr(zrfzjhm, 1, 7) = 'purged:' OR substr(zrflxdh, 1, 7) = 'purged:'
                                OR substr(zcfxm, 1, 7) = 'purged:' OR substr(zcfzjhm, 1, 7) = 'purged:' OR substr(zcflxdh, 1, 7) = 'purged:')
