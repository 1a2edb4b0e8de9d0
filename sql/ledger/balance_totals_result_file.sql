-- purpose: lifetime balance — result files read, counted on their own.
SELECT (SELECT count(*) FROM result_file) AS received
