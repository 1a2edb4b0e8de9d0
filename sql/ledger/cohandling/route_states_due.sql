-- purpose: record states due for routing — versions in force that routing has not taken yet (validated, not yet routed — whichever run validated them); the derived table of select_route_records / select_route_work_orders.
SELECT s.* FROM record_state s
WHERE s.routed_seq IS NULL OR s.routed_seq <> s.change_seq
