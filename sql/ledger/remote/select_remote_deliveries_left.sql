-- purpose: pending deliveries never attempted whose BWID has another version in force (with that version's status).
SELECT d.source, d.change_seq, s.status AS status_now
FROM remote_delivery d
JOIN remote_package_state s ON s.bwid = d.bwid
WHERE d.status = 'pending' AND d.first_sent_at IS NULL AND s.change_seq <> d.change_seq
