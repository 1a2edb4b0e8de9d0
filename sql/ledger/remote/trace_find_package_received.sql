-- purpose: trace: a BWID received but not validated yet (remote_package has no index on bwid: a scan; tried only when remote_package_state does not know the key).
SELECT DISTINCT bwid FROM remote_package WHERE bwid = :key
