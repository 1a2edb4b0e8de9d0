-- purpose: institutions in force at :at (local time), and those retired by then that name a successor.
SELECT * FROM institution
WHERE (valid_from <= :at AND (valid_to IS NULL OR valid_to > :at)) OR (valid_to <= :at AND successor_code IS NOT NULL)
ORDER BY code, valid_from
