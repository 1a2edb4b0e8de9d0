-- purpose: the retention purge — ROWGUIDs of the window (:after, :upto] whose personal data is past retention and not yet all purged: every work order of the record final (done / rejected at its receiver, cancelled, withdrawn, superseded) before :before — or quarantined (its utility blocked) before :unrouted_before —, its version in force routed and unchanged since; or the record quarantined / withdrawn, never routed, its last verdict before :unrouted_before. The values are looked at first (`unpurged`, materialized): an old ledger's records purged already stop there, before the dearer finality check (bench/bench_purge.py's "day after"). :before_any is the later of the two cut-offs.
WITH unpurged AS MATERIALIZED (  -- the window's records with a personal value not yet purged (an old ledger's purged records stop here)
    SELECT s.rowguid, s.status, s.routed_seq, s.change_seq, s.updated_at
    FROM record_state s
    WHERE s.rowguid > :after AND s.rowguid <= :upto AND s.updated_at < :before_any
      AND (EXISTS (
        SELECT 1 FROM received_record r WHERE r.rowguid = s.rowguid AND (
            (r.zrfxm <> '' AND substr(r.zrfxm, 1, 7) <> 'purged:') OR (r.zrfzjhm <> '' AND substr(r.zrfzjhm, 1, 7) <> 'purged:')
            OR (r.zrflxdh <> '' AND substr(r.zrflxdh, 1, 7) <> 'purged:') OR (r.zcfxm <> '' AND substr(r.zcfxm, 1, 7) <> 'purged:')
            OR (r.zcfzjhm <> '' AND substr(r.zcfzjhm, 1, 7) <> 'purged:') OR (r.zcflxdh <> '' AND substr(r.zcflxdh, 1, 7) <> 'purged:')
            OR EXISTS (SELECT 1 FROM rule_failure f WHERE f.source = r.source AND f.change_seq = r.change_seq
                       AND f.value <> '' AND substr(f.value, 1, 7) <> 'purged:')
            OR EXISTS (SELECT 1 FROM received_original g WHERE g.source = r.source AND g.change_seq = r.change_seq AND g.original <> :purged_mark)))
       OR EXISTS (SELECT 1 FROM sms_outbox m WHERE m.rowguid = s.rowguid AND m.phone <> '' AND substr(m.phone, 1, 7) <> 'purged:'))
)
SELECT s.rowguid, 'record' AS kind
FROM unpurged s
WHERE s.routed_seq = s.change_seq AND s.updated_at < :before
  AND EXISTS (SELECT 1 FROM work_order w WHERE w.rowguid = s.rowguid)
  AND NOT EXISTS (
      SELECT 1 FROM work_order w
      LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
      LEFT JOIN work_order_outcome o ON o.rowguid = w.rowguid AND o.utility = w.utility AND o.version = w.version
      WHERE w.rowguid = s.rowguid AND CASE
          WHEN w.status IN ('cancelled', 'withdrawn', 'superseded') AND w.routed_at < :before AND NOT EXISTS (
              SELECT 1 FROM work_order_cancel c WHERE c.rowguid = w.rowguid AND c.utility = w.utility AND c.updated_at >= :before) THEN 1
          WHEN d.status = 'delivered' AND o.result IN ('done', 'rejected') AND o.updated_at < :before THEN 1
          WHEN w.status = 'quarantined' AND w.routed_at < :unrouted_before THEN 1
          ELSE 0
      END = 0
  )
UNION ALL
SELECT s.rowguid, 'record_unrouted' AS kind
FROM unpurged s
WHERE s.status IN ('quarantined', 'withdrawn') AND s.updated_at < :unrouted_before
  AND NOT EXISTS (SELECT 1 FROM work_order w WHERE w.rowguid = s.rowguid)
ORDER BY rowguid
