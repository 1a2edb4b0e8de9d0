-- purpose: renew a stage lock's lease (SQLite); only its holder's token does (no row: the lease was lost).
UPDATE ledger_lock SET expires_at = :expires_at WHERE name = :name AND token = :token
