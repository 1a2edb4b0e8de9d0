-- purpose: release a stage lock's lease (SQLite); only its holder's token does.
DELETE FROM ledger_lock WHERE name = :name AND token = :token
