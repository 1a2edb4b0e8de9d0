-- purpose: take over a stage lock's lease from a holder known to be dead (its process is gone from this host), only if that holder still has it.
UPDATE ledger_lock SET holder = :holder, token = :token, acquired_at = :acquired_at, expires_at = :expires_at
WHERE name = :name AND token = :dead_token
