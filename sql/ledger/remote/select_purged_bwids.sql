-- purpose: which of the BWIDs :bwids have a version whose applicants' personal data was purged (a replay refuses them).
SELECT DISTINCT p.bwid FROM remote_package p JOIN remote_applicant a ON a.source = p.source AND a.change_seq = p.change_seq
WHERE p.bwid IN :bwids AND (substr(a.sqrxm, 1, 7) = 'purged:' OR substr(a.zjhm, 1, 7) = 'purged:')
