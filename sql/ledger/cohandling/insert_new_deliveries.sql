-- purpose: plan a delivery for every ready work-order version that has none yet (account ones are put into batches next); one another run planned at the same moment is left as it is.
INSERT INTO delivery (rowguid, utility, version, channel, destination, batch_id, status, attempts, planned_run_id, updated_at)
SELECT w.rowguid, w.utility, w.version, w.channel, w.destination, NULL, 'pending', 0, :run_id, :now
FROM work_order w
WHERE w.status = 'ready' AND w.channel IS NOT NULL AND w.destination IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version)
ON CONFLICT (rowguid, utility, version) DO NOTHING
