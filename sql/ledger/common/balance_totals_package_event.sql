-- purpose: lifetime balance — package status events kept, counted on their own.
SELECT (SELECT count(*) FROM remote_event) AS received
