-- purpose: who holds a stage lock's lease (SQLite), since when and until when unless renewed.
SELECT holder, token, acquired_at, expires_at FROM ledger_lock WHERE name = :name
