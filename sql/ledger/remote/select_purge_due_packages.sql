-- purpose: the retention purge — BWIDs of the window (:after, :upto] whose personal data is past retention and not yet all purged: the version in force closed (delivered, and the authority registered it, issued the certificate or refused it) before :before, or withdrawn before :before; or returned to the hall and not resubmitted since :unrouted_before. As for records (select_purge_due_records.sql), the values are looked at first (`unpurged`, materialized), so a package purged already stops there; :before_any is the later of the two cut-offs.
WITH unpurged AS MATERIALIZED (  -- the window's packages with a personal value not yet purged, in any version
    SELECT s.bwid, s.source, s.change_seq, s.status, s.updated_at
    FROM remote_package_state s
    WHERE s.bwid > :after AND s.bwid <= :upto AND s.updated_at < :before_any
      AND EXISTS (  -- one lookup of the package's versions, each checked with its applicants, failures and originals by their key's prefix
        SELECT 1 FROM remote_package p WHERE p.bwid = s.bwid AND (
            EXISTS (SELECT 1 FROM remote_applicant a WHERE a.source = p.source AND a.change_seq = p.change_seq
                    AND ((a.sqrxm <> '' AND substr(a.sqrxm, 1, 7) <> 'purged:') OR (a.zjhm <> '' AND substr(a.zjhm, 1, 7) <> 'purged:')))
            OR EXISTS (SELECT 1 FROM remote_failure f WHERE f.source = p.source AND f.change_seq = p.change_seq
                       AND f.value <> '' AND substr(f.value, 1, 7) <> 'purged:')
            OR EXISTS (SELECT 1 FROM received_original g WHERE g.source = p.source AND g.change_seq = p.change_seq AND g.original <> :purged_mark)))
)
SELECT s.bwid, 'package' AS kind
FROM unpurged s
WHERE s.updated_at < :before AND (
    s.status = 'withdrawn'
    OR (s.status = 'passed' AND EXISTS (
        SELECT 1 FROM remote_delivery d JOIN remote_event e ON e.source = d.source AND e.change_seq = d.change_seq
        WHERE d.source = s.source AND d.change_seq = s.change_seq AND d.status = 'delivered' AND (d.withdrawal IS NULL OR d.withdrawal <> 'pending')
          AND e.accepted AND e.status IN ('registered', 'certificate_issued', 'refused') AND e.received_at < :before))
)
UNION ALL
SELECT s.bwid, 'package_returned' AS kind
FROM unpurged s
WHERE s.status = 'returned' AND s.updated_at < :unrouted_before
ORDER BY bwid
