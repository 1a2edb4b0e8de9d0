-- purpose: the retention purge — dead letters (after :after, in order, :limit of them) resolved before :before whose payload is not yet purged.
SELECT dl_id FROM dead_letter
WHERE dl_id > :after AND status = 'resolved' AND resolved_at < :before AND payload IS NOT NULL AND payload <> :purged_mark
ORDER BY dl_id
LIMIT :limit
