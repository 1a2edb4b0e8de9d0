-- purpose: one electronic file's bytes from the remote-collection module's file store (no row: not there).
SELECT WJNR FROM BDC_YDDS_WJ WHERE WJDZ = :wjdz
