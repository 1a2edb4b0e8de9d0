-- purpose: the SMS outbox, oldest first.
SELECT * FROM sms_outbox ORDER BY sms_id
