-- purpose: every version of one county's list for one business type, oldest first.
SELECT * FROM remote_checklist WHERE xzqh = :xzqh AND business_type = :business_type ORDER BY valid_from, version_id
