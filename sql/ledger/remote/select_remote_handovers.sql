-- purpose: every paper handover list.
SELECT * FROM remote_handover ORDER BY list_id
