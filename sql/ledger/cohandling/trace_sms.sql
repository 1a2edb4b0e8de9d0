-- purpose: trace: the SMS queued for the records' buyers (sms_outbox by its unique (rowguid, utility, version)).
SELECT s.sms_id, s.rowguid, s.utility, s.version, s.phone, s.text, s.status, s.created_at
FROM sms_outbox s
WHERE s.rowguid IN :rowguids
ORDER BY s.created_at, s.sms_id
