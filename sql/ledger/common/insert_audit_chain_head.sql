-- purpose: start the audit chain's head (migration 0017): the last entry chained and its hash (0 and the genesis hash for an empty log).
INSERT INTO audit_chain_head (head_id, seq, hash, updated_at) VALUES (1, :seq, :hash, :updated_at)
