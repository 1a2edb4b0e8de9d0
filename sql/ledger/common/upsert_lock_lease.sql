-- purpose: take a stage lock's lease (SQLite): a new row, or the row of a lease that expired (its holder stopped renewing it).
INSERT INTO ledger_lock (name, holder, token, acquired_at, expires_at)
VALUES (:name, :holder, :token, :acquired_at, :expires_at)
ON CONFLICT (name) DO UPDATE
SET holder = excluded.holder, token = excluded.token, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE ledger_lock.expires_at < excluded.acquired_at
