-- purpose: the property county signed for a handover list.
UPDATE remote_handover SET received_at = :received_at, received_by = :received_by, receipt_note = :receipt_note, receipt_recorded_at = :receipt_recorded_at
WHERE list_id = :list_id
