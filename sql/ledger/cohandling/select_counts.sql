-- purpose: what the ledger holds: changes received, distinct records (ROWGUIDs), changes without a ROWGUID.
SELECT
    (SELECT count(*) FROM received_record) AS changes,
    (SELECT count(DISTINCT rowguid) FROM received_record) AS records,
    (SELECT count(*) FROM received_record WHERE rowguid IS NULL) AS without_rowguid
