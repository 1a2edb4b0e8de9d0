-- purpose: lifetime balance — registry forms loaded, counted on their own.
SELECT (SELECT count(*) FROM registry_form) AS received
