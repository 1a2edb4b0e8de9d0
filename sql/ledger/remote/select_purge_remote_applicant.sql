-- purpose: the retention purge — the applicants' names and ID numbers of every version received of the BWIDs :keys, by primary key.
SELECT a.source, a.change_seq, a.xh, a.sqrxm, a.zjhm
FROM remote_applicant a JOIN remote_package p ON p.source = a.source AND p.change_seq = a.change_seq
WHERE p.bwid IN :keys
