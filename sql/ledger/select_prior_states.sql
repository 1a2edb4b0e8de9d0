-- purpose: the state earlier runs left for the ROWGUIDs a run received (to find re-used ROWGUIDs).
SELECT rowguid, change_seq, op, status
FROM record_state
WHERE run_id <> :run_id
  AND rowguid IN (
      SELECT rowguid FROM received_record
      WHERE source = :source AND change_seq > :low AND change_seq <= :high AND run_id = :run_id
  )
