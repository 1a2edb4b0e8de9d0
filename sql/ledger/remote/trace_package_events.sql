-- purpose: trace: the status events the property authorities sent about the package versions (remote_event, by its (source, change_seq) index).
SELECT e.event_id, e.feed, e.seq, e.source, e.change_seq, e.bwid, e.status, e.at, e.reason, e.detail, e.accepted, e.issue, e.issue_message,
       e.run_id, e.received_at
FROM remote_event e
WHERE e.source = :source AND e.change_seq IN :seqs
ORDER BY e.received_at, e.event_id
