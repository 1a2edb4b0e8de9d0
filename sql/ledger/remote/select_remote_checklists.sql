-- purpose: every checklist version with its items (the rules pick the one in force at each package's collected time).
SELECT c.version_id, c.xzqh, c.business_type, c.valid_from, c.valid_to, i.material_code, i.material_name, i.required, i.paper_original
FROM remote_checklist c
JOIN remote_checklist_item i ON i.version_id = c.version_id
ORDER BY c.xzqh, c.business_type, c.valid_from, i.position
