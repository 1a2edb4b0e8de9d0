-- purpose: the retention purge — one applicant's name and ID number written back purged (nothing else).
UPDATE remote_applicant SET sqrxm = :v_sqrxm, zjhm = :v_zjhm WHERE source = :k_source AND change_seq = :k_change_seq AND xh = :k_xh
