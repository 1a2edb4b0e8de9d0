-- purpose: package versions in force that passed and have no delivery yet, each marked a correction when its BWID was sent before.
SELECT s.source, s.change_seq, s.bwid, s.channel, s.destination,
       CASE WHEN EXISTS (SELECT 1 FROM remote_delivery e WHERE e.bwid = s.bwid AND e.first_sent_at IS NOT NULL) THEN 1 ELSE 0 END AS correction
FROM remote_package_state s
WHERE s.status = 'passed'
  AND NOT EXISTS (SELECT 1 FROM remote_delivery d WHERE d.source = s.source AND d.change_seq = s.change_seq)
ORDER BY s.change_seq
