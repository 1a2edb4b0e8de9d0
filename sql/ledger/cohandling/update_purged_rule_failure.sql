-- purpose: the retention purge — one rule failure's value written back purged (nothing else).
UPDATE rule_failure SET value = :v_value
WHERE source = :k_source AND change_seq = :k_change_seq AND rule_id = :k_rule_id AND field = :k_field AND utility = :k_utility
