-- purpose: the version in force for the ROWGUIDs of a page of changes due for validation (a second new record under a ROWGUID in use is a duplicate).
SELECT s.rowguid, s.change_seq, s.op, s.status
FROM record_state s
WHERE s.rowguid IN (
    SELECT r.rowguid FROM received_record r
    WHERE r.source = :source AND r.change_seq >= :low AND r.change_seq <= :high AND r.rowguid IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM record_verdict v WHERE v.source = r.source AND v.change_seq = r.change_seq)
)
