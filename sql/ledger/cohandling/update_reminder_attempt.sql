-- purpose: one attempt to send a reminder: sent (with what the recipient got), still pending (sent again next run) or failed for good.
UPDATE overdue_reminder
SET status = :status, attempts = attempts + 1, last_error = :last_error, receipt = COALESCE(:receipt, receipt), sent_at = COALESCE(sent_at, :sent_at),
    updated_at = :now
WHERE week = :week AND channel = :channel AND destination = :destination AND status = 'pending'
