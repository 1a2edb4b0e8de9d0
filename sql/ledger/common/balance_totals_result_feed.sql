-- purpose: lifetime balance — results-feed entries kept (accepted and excepted), counted on their own.
SELECT (SELECT count(*) FROM handling_result WHERE file_id IS NULL) + (SELECT count(*) FROM result_exception WHERE file_id IS NULL) AS received
