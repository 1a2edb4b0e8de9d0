-- purpose: the materials of the package changes in a sequence range (low, high], each with its stored file's bytes (null: not in the file store).
SELECT c.CHANGE_SEQ, c.XH, c.BWID, c.CLBM, c.CLMC, c.YS, c.WJDZ, c.WJHX, c.SFZZYJ, w.WJNR
FROM BDC_YDDS_CL c
LEFT JOIN BDC_YDDS_WJ w ON w.WJDZ = c.WJDZ
WHERE c.CHANGE_SEQ > :low AND c.CHANGE_SEQ <= :high
ORDER BY c.CHANGE_SEQ, c.XH
