-- purpose: the institutions in force under the given codes.
SELECT * FROM institution WHERE code IN :codes AND valid_to IS NULL
