-- purpose: the retention purge — one dead letter's payload written back purged (its size and SHA-256 stay).
UPDATE dead_letter SET payload = :v_payload WHERE dl_id = :k_dl_id
