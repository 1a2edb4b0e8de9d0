-- purpose: record a checklist form being loaded (its counts set when done) and return its id.
INSERT INTO remote_checklist_form (file_name, sha256, city_code, effective, loaded_at, lists_loaded, added, changed, unchanged, errors, warnings)
VALUES (:file_name, :sha256, :city_code, :effective, :loaded_at, 0, 0, 0, 0, 0, 0)
RETURNING form_id
