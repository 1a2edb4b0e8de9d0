-- purpose: trace: the weekly overdue reminders (催办) whose items name a record (one row per recipient and week; the items are JSON, searched with LIKE: a scan).
SELECT r.week, r.channel, r.destination, r.name, r.status, r.items, r.receipt, r.created_at, r.sent_at
FROM overdue_reminder r
WHERE r.items LIKE :pattern ESCAPE '!'
ORDER BY r.created_at
