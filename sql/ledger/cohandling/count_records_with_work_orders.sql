-- purpose: how many records (ROWGUIDs) have a work order in force.
SELECT count(DISTINCT rowguid) FROM work_order
