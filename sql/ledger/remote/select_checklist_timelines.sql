-- purpose: every checklist version of the given counties with its items, oldest first (the caller keeps the business types it loads).
SELECT c.version_id, c.xzqh, c.business_type, c.valid_from, c.valid_to, i.material_code, i.material_name, i.required, i.paper_original
FROM remote_checklist c
JOIN remote_checklist_item i ON i.version_id = c.version_id
WHERE c.xzqh IN :counties
ORDER BY c.valid_from, c.version_id
