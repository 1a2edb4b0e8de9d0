-- purpose: move each BWID's version in force to the latest version of a page a run just validated (a later change wins; a duplicate new package never replaces the first).
WITH eligible AS (
    SELECT v.bwid, v.source, v.change_seq, v.op, v.status, v.channel, v.destination, v.paper_handover
    FROM remote_verdict v
    WHERE v.source = :source AND v.change_seq >= :low AND v.change_seq <= :high AND v.run_id = :run_id AND v.bwid IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM remote_failure f
          WHERE f.source = v.source AND f.change_seq = v.change_seq AND f.rule_id = 'BWID_DUPLICATE'
      )
), latest AS (
    SELECT e.* FROM eligible e
    WHERE e.change_seq = (SELECT max(x.change_seq) FROM eligible x WHERE x.bwid = e.bwid)
)
INSERT INTO remote_package_state (bwid, source, change_seq, op, status, channel, destination, paper_handover, run_id, updated_at)
SELECT bwid, source, change_seq, op, status, channel, destination, paper_handover, :run_id, :updated_at
FROM latest
WHERE true
ON CONFLICT (bwid) DO UPDATE
SET source = excluded.source, change_seq = excluded.change_seq, op = excluded.op, status = excluded.status,
    channel = excluded.channel, destination = excluded.destination, paper_handover = excluded.paper_handover,
    run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE excluded.change_seq >= remote_package_state.change_seq
