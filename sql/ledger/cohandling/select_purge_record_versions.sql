-- purpose: the retention purge — every version (source, change_seq) received of the ROWGUIDs :rowguids.
SELECT source, change_seq FROM received_record WHERE rowguid IN :rowguids
