-- purpose: trace: the records a key names as a ROWGUID, by the primary keys of record_state and work_order (indexed lookups).
SELECT rowguid FROM record_state WHERE rowguid = :key
UNION
SELECT rowguid FROM work_order WHERE rowguid = :key
