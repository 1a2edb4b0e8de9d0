-- purpose: the materials of the package versions a run received, with the digest the gateway computed at receipt (exchange names, upper case).
SELECT m.change_seq AS "CHANGE_SEQ", m.xh AS "XH", m.bwid AS "BWID", m.clbm AS "CLBM", m.clmc AS "CLMC", m.ys AS "YS", m.wjdz AS "WJDZ",
       m.wjhx AS "WJHX", m.sfzzyj AS "SFZZYJ", m.file_sha256 AS "FILE_SHA256", m.file_size AS "FILE_SIZE"
FROM remote_material m
JOIN remote_package p ON p.source = m.source AND p.change_seq = m.change_seq
WHERE p.source = :source AND p.run_id = :run_id
ORDER BY m.change_seq, m.xh
