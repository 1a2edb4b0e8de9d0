-- purpose: overdue reminders — the platform number (YCYWH), the account number and the batch format of every delivered work order in force, to name it to the clerks who handle it.
SELECT w.rowguid, w.utility, w.version, w.account_no, r.ycywh, w.file_format
FROM work_order w
JOIN received_record r ON r.source = w.source AND r.change_seq = w.change_seq
WHERE w.status = 'delivered'
