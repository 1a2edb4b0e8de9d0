-- purpose: the newest platform change and handling result the ledger had recorded by :known_by (UTC): what a report as of then saw.
SELECT (SELECT MAX(change_seq) FROM received_record WHERE received_at <= :known_by) AS newest_change_seq,
       (SELECT MAX(received_at) FROM received_record WHERE received_at <= :known_by) AS newest_change_received_at,
       (SELECT MAX(result_id) FROM handling_result WHERE received_at <= :known_by) AS newest_result_id,
       (SELECT MAX(received_at) FROM handling_result WHERE received_at <= :known_by) AS newest_result_received_at
