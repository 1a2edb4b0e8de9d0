-- purpose: records by the state of their version in force (passed, partial, quarantined, withdrawn, …).
SELECT status, count(*) FROM record_state GROUP BY status
