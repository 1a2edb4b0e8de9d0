-- purpose: take the audit chain's next place and the hash it follows — the row lock (PostgreSQL) / write lock (SQLite) held to commit gives the chain its total order.
UPDATE audit_chain_head SET seq = seq + 1, updated_at = :updated_at WHERE head_id = 1
RETURNING seq, hash
