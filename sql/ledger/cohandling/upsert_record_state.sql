-- purpose: move each ROWGUID to its newest validated version among a page a run just validated; an older version changes nothing.
INSERT INTO record_state (rowguid, source, change_seq, op, status, blocked, run_id, updated_at)
SELECT rowguid, source, change_seq, op, status, blocked, run_id, :updated_at
FROM (
    SELECT v.rowguid, v.source, v.change_seq, r.op, v.status, v.blocked, v.run_id,
           row_number() OVER (PARTITION BY v.rowguid ORDER BY v.change_seq DESC) AS newest
    FROM record_verdict v
    JOIN received_record r ON r.source = v.source AND r.change_seq = v.change_seq
    WHERE v.source = :source AND v.change_seq >= :low AND v.change_seq <= :high AND v.run_id = :run_id
      AND v.rowguid IS NOT NULL AND v.status <> 'duplicate'
) AS latest
WHERE newest = 1
ON CONFLICT (rowguid) DO UPDATE
SET source = excluded.source, change_seq = excluded.change_seq, op = excluded.op, status = excluded.status,
    blocked = excluded.blocked, run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE excluded.change_seq >= record_state.change_seq
