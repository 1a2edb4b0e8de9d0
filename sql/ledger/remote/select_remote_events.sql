-- purpose: package status events in order — accepted or not or all (:accepted NULL), of one run or all (:run_id NULL).
SELECT * FROM remote_event
WHERE (CAST(:accepted AS BOOLEAN) IS NULL OR accepted = :accepted) AND (CAST(:run_id AS VARCHAR(250)) IS NULL OR run_id = :run_id)
ORDER BY event_id
