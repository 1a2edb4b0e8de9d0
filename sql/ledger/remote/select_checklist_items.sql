-- purpose: the items of one checklist version, in their order.
SELECT * FROM remote_checklist_item WHERE version_id = :version_id ORDER BY position
