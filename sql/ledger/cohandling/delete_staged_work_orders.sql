-- purpose: make room in work_order for the staged versions (the version in force per ROWGUID and utility is replaced).
DELETE FROM work_order
WHERE EXISTS (SELECT 1 FROM stage_work_order s WHERE s.rowguid = work_order.rowguid AND s.utility = work_order.utility)
