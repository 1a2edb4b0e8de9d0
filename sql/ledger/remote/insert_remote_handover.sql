-- purpose: create one paper handover list and return its id.
INSERT INTO remote_handover (list_no, hall, hall_name, xzqh, period_from, period_to, packages, originals, pages, created_at, run_id)
VALUES (:list_no, :hall, :hall_name, :xzqh, :period_from, :period_to, :packages, :originals, :pages, :created_at, :run_id)
RETURNING list_id
