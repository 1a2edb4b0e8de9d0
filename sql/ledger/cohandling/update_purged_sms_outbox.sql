-- purpose: the retention purge — one SMS queue row's phone written back purged (nothing else).
UPDATE sms_outbox SET phone = :v_phone WHERE sms_id = :k_sms_id
