-- purpose: one handover list by its number.
SELECT * FROM remote_handover WHERE list_no = :list_no
