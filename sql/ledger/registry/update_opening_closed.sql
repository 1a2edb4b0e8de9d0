-- purpose: a county opening stops being in force when a changed one takes effect.
UPDATE county_opening SET valid_to = :valid_to WHERE version_id = :version_id
