-- purpose: the retention purge — one remote failure's value written back purged (nothing else).
UPDATE remote_failure SET value = :v_value
WHERE source = :k_source AND change_seq = :k_change_seq AND rule_id = :k_rule_id AND field = :k_field AND item = :k_item
