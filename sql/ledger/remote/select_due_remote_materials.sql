-- purpose: the materials of a page of package versions due for validation, with the digest the gateway computed at receipt (exchange names, upper case).
SELECT m.change_seq AS "CHANGE_SEQ", m.xh AS "XH", m.bwid AS "BWID", m.clbm AS "CLBM", m.clmc AS "CLMC", m.ys AS "YS", m.wjdz AS "WJDZ",
       m.wjhx AS "WJHX", m.sfzzyj AS "SFZZYJ", m.file_sha256 AS "FILE_SHA256", m.file_size AS "FILE_SIZE"
FROM remote_material m
WHERE m.source = :source AND m.change_seq >= :low AND m.change_seq <= :high
  AND NOT EXISTS (SELECT 1 FROM remote_verdict v WHERE v.source = m.source AND v.change_seq = m.change_seq)
ORDER BY m.change_seq, m.xh
