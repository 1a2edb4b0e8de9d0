-- purpose: result files read, by status (processed, rejected).
SELECT status, count(*) FROM result_file GROUP BY status
