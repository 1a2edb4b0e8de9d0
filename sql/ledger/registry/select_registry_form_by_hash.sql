-- purpose: a registry form already loaded, by the SHA-256 of its bytes.
SELECT * FROM registry_form WHERE sha256 = :sha256
