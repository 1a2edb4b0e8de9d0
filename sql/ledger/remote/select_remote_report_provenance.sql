-- purpose: the newest package change the ledger holds and the newest package status event it had received by :known_by (UTC): what a remote-collection report saw.
SELECT (SELECT MAX(change_seq) FROM remote_package) AS newest_package_change_seq,
       (SELECT MAX(received_at) FROM remote_package) AS newest_package_received_at,
       (SELECT MAX(event_id) FROM remote_event WHERE received_at <= :known_by) AS newest_event_id,
       (SELECT MAX(received_at) FROM remote_event WHERE received_at <= :known_by) AS newest_event_received_at
