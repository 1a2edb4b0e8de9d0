-- purpose: versions a receiver may hold (sent, not withdrawn there, not closed by it: refused / correction / withdrawn) whose BWID was withdrawn since or whose version in force goes to another authority.
SELECT d.source, d.change_seq, s.status AS status_now, s.destination AS destination_now
FROM remote_delivery d
JOIN remote_package_state s ON s.bwid = d.bwid
WHERE d.first_sent_at IS NOT NULL AND d.withdrawal IS NULL AND d.status IN ('pending', 'delivered')
  AND NOT EXISTS (SELECT 1 FROM remote_event e WHERE e.source = d.source AND e.change_seq = d.change_seq AND e.accepted
                  AND e.status IN ('refused', 'correction', 'withdrawn'))
  AND (s.status = 'withdrawn' OR (s.change_seq <> d.change_seq AND s.destination <> d.destination))
