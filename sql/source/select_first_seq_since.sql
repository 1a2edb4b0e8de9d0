-- purpose: the lowest change sequence written at or after a time (start of the re-read window).
SELECT min(CHANGE_SEQ) FROM BDC_SDQR_XBXX WHERE CHANGE_TIME >= :since
