-- purpose: every work-order version in force at :known_by (the newest routed by then), with final_known — the derived table of reconciliation_of_versions for reconciliation and the reports as of a time (reconcile_now reads it whole, a part at a time).
-- The newest version by a join to MAX(version) per key (a hash join over the whole ledger: both sides are estimated right),
-- the results known per version by a lookup on ix_handling_result_key — never by a join to the results' aggregate: the join
-- to MAX(version) is estimated at 1 row when it is every row, and the aggregate then went on the inner side of a nested loop,
-- walked once per work order (20,000 records: 100 s on PostgreSQL against 1.5 s; docs/benchmarks.md 2026-12-05).
SELECT w0.*, (
    SELECT MAX(CASE WHEN h.result <> 'received' THEN 1 ELSE 0 END) FROM handling_result h
    WHERE h.rowguid = w0.rowguid AND h.utility = w0.utility AND h.version = w0.version AND h.received_at <= :known_by
) AS final_known
FROM work_order_version w0
JOIN (
    SELECT rowguid, utility, MAX(version) AS version FROM work_order_version WHERE routed_at <= :known_by GROUP BY rowguid, utility
) f ON f.rowguid = w0.rowguid AND f.utility = w0.utility AND f.version = w0.version
