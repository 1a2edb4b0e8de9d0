-- purpose: every accepted package status event the ledger had received by :known_by (UTC) (what tracking reads).
SELECT source, change_seq, status, at, reason, detail FROM remote_event WHERE accepted AND received_at <= :known_by
