-- purpose: every overdue reminder planned, all weeks' or one week's (:week NULL for all), for summaries and tests.
SELECT * FROM overdue_reminder WHERE (CAST(:week AS VARCHAR(8)) IS NULL OR week = :week) ORDER BY week, channel, destination
