-- purpose: the retention purge — the SMS queue's phones of the ROWGUIDs :keys, by primary key.
SELECT sms_id, phone FROM sms_outbox WHERE rowguid IN :keys
