-- purpose: plan one overdue reminder for a recipient and ISO week, its work orders fixed now; a reminder already planned for that week (another run, a retry, a worker at the same moment) is left as it is.
INSERT INTO overdue_reminder (week, channel, destination, name, file_format, institution_code, xzqh, records, items, status, attempts, run_id, created_at, updated_at)
VALUES (:week, :channel, :destination, :name, :file_format, :institution_code, :xzqh, :records, :items, 'pending', 0, :run_id, :now, :now)
ON CONFLICT (week, channel, destination) DO NOTHING
