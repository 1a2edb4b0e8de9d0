-- purpose: the retention purge — dead letters of the window (:after, :upto] resolved before :before whose payload is not yet purged.
SELECT dl_id FROM dead_letter
WHERE dl_id > :after AND dl_id <= :upto AND status = 'resolved' AND resolved_at < :before AND payload IS NOT NULL AND payload <> :purged_mark
ORDER BY dl_id
