-- purpose: a new checklist version of one county and business type, and its id.
INSERT INTO remote_checklist (xzqh, business_type, items, valid_from, valid_to, form_id)
VALUES (:xzqh, :business_type, :items, :valid_from, :valid_to, :form_id)
RETURNING version_id
