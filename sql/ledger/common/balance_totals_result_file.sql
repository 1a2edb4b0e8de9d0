-- purpose: lifetime balance — result files read, counted on their own (one refused whole and held as an open dead letter counts as dead-lettered).
SELECT
    (SELECT count(*) FROM result_file f
     WHERE NOT (f.status = 'rejected' AND EXISTS (
         SELECT 1 FROM dead_letter d WHERE d.surface = 'result_file' AND d.status = 'open' AND d.unit_key = f.source || ':' || f.sha256))) AS received
