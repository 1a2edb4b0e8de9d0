-- purpose: BWIDs already taken as new packages by validated versions (whichever run): a second new package under one is a duplicate.
SELECT DISTINCT upper(trim(p.bwid)) FROM remote_package p
WHERE p.source = :source AND p.op = 'I' AND p.bwid IS NOT NULL
  AND EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = p.source AND v.change_seq = p.change_seq)
