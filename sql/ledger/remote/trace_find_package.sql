-- purpose: trace: the package a key names as a BWID, by remote_package_state's primary key (indexed).
SELECT bwid FROM remote_package_state WHERE bwid = :key
