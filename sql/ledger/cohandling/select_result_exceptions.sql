-- purpose: the results exceptions list, oldest first — what was received by :known_by (UTC), all of it or since :since (NULL for all).
SELECT * FROM result_exception WHERE (CAST(:since AS TIMESTAMP) IS NULL OR received_at >= :since) AND received_at <= :known_by ORDER BY exception_id
