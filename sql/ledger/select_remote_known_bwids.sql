-- purpose: BWIDs other runs already received as new packages (a second new package under one is a duplicate).
SELECT DISTINCT upper(trim(bwid)) FROM remote_package
WHERE source = :source AND op = 'I' AND run_id <> :run_id AND bwid IS NOT NULL
