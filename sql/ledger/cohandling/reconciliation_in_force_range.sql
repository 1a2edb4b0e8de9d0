-- purpose: the work-order versions in force at :known_by of the ROWGUIDs in [:low, :high], with final_known (the derived table of reconciliation_of_versions: the console read model's whole refresh reads the ledger a key range at a time, by work_order_version's primary key).
-- The newest version by NOT EXISTS a newer one and the results known per version by a lookup on ix_handling_result_key, not by
-- joins to aggregates: the planner estimated the join to MAX(version) per key at 1 row and walked the results aggregate once per
-- work order, a whole refresh growing with the square of the ledger (README "Benchmarks", bench-scale).
SELECT w0.*, (
    SELECT MAX(CASE WHEN h.result <> 'received' THEN 1 ELSE 0 END) FROM handling_result h
    WHERE h.rowguid = w0.rowguid AND h.utility = w0.utility AND h.version = w0.version AND h.received_at <= :known_by
) AS final_known
FROM work_order_version w0
WHERE w0.rowguid BETWEEN :low AND :high AND w0.routed_at <= :known_by AND NOT EXISTS (
    SELECT 1 FROM work_order_version n WHERE n.rowguid = w0.rowguid AND n.utility = w0.utility AND n.version > w0.version AND n.routed_at <= :known_by
)
