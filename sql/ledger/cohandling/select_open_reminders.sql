-- purpose: the reminders of a week not yet sent, by channel and recipient.
SELECT * FROM overdue_reminder WHERE week = :week AND status = 'pending' ORDER BY channel, destination
