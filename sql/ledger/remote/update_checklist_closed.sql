-- purpose: a checklist version stops being in force when a new one takes effect.
UPDATE remote_checklist SET valid_to = :valid_to WHERE version_id = :version_id
