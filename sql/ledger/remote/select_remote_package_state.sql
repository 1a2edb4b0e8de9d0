-- purpose: the version in force of one package, by BWID.
SELECT * FROM remote_package_state WHERE bwid = :bwid
