-- purpose: a checklist form already loaded, by the SHA-256 of its bytes.
SELECT * FROM remote_checklist_form WHERE sha256 = :sha256
