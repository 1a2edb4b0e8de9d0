-- purpose: an institution version stops being in force (changed, or re-coded: then the code that replaced it).
UPDATE institution SET valid_to = :valid_to, successor_code = COALESCE(:successor_code, successor_code) WHERE version_id = :version_id
