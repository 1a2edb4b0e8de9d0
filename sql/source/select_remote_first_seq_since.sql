-- purpose: the lowest remote-collection package sequence written at or after a time (start of the re-read window).
SELECT min(CHANGE_SEQ) FROM BDC_YDDS_BWXX WHERE CHANGE_TIME >= :since
