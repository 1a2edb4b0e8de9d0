-- purpose: the retention purge — the payloads of the dead letters :keys, by primary key.
SELECT dl_id, payload FROM dead_letter WHERE dl_id IN :keys
