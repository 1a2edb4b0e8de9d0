-- purpose: how many changes a run received, counted inside the key range its batches covered.
SELECT count(*)
FROM received_record
WHERE source = :source AND change_seq > :low AND change_seq <= :high AND run_id = :run_id
