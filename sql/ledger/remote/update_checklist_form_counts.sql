-- purpose: what loading a checklist form did (lists, changes, issues).
UPDATE remote_checklist_form
SET lists_loaded = :lists_loaded, added = :added, changed = :changed, unchanged = :unchanged, errors = :errors, warnings = :warnings
WHERE form_id = :form_id
