-- purpose: the retention purge — one original before cleaning written back purged (nothing else).
UPDATE received_original SET original = :v_original
WHERE source = :k_source AND change_seq = :k_change_seq AND part = :k_part AND field = :k_field
