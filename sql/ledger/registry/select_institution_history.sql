-- purpose: every version of one institution code, oldest first.
SELECT * FROM institution WHERE code = :code ORDER BY valid_from, version_id
