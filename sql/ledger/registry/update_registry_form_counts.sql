-- purpose: what loading a registry form did (rows, changes, issues).
UPDATE registry_form
SET rows_loaded = :rows_loaded, added = :added, changed = :changed, unchanged = :unchanged, errors = :errors, warnings = :warnings
WHERE form_id = :form_id
