-- purpose: lifetime balance — every remote-collection checklist form loaded: loaded is final (its bad rows are issues beside the filed form).
SELECT 'form #' || CAST(form_id AS VARCHAR(20)) AS unit, CAST(NULL AS VARCHAR(1)) AS ref, 'loaded' AS state, loaded_at AS since
FROM remote_checklist_form
