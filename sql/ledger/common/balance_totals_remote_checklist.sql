-- purpose: lifetime balance — remote-collection checklist forms loaded, counted on their own.
SELECT (SELECT count(*) FROM remote_checklist_form) AS received
