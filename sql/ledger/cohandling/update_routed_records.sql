-- purpose: the record versions a page of routing took are routed (still the version in force: a newer one stays due).
UPDATE record_state
SET routed_seq = change_seq
WHERE EXISTS (SELECT 1 FROM stage_routed t WHERE t.rowguid = record_state.rowguid AND t.change_seq = record_state.change_seq)
