-- purpose: the results exceptions list, oldest first — all of it, or what was received since :since (NULL for all).
SELECT * FROM result_exception WHERE (CAST(:since AS TIMESTAMP) IS NULL OR received_at >= :since) ORDER BY exception_id
