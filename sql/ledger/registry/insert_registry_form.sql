-- purpose: record a registry form being loaded (its counts set when done) and return its id.
INSERT INTO registry_form (file_name, sha256, kind, city_code, effective, loaded_at, rows_loaded, added, changed, unchanged, errors, warnings)
VALUES (:file_name, :sha256, :kind, :city_code, :effective, :loaded_at, 0, 0, 0, 0, 0, 0)
RETURNING form_id
