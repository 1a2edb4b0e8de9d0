-- purpose: reminders of earlier weeks still unsent are replaced by this week's (which lists what is overdue now): superseded, never sent late.
UPDATE overdue_reminder SET status = 'superseded', updated_at = :now WHERE status = 'pending' AND week < :week
