-- purpose: the issues found in one checklist form, in order.
SELECT * FROM remote_checklist_form_issue WHERE form_id = :form_id ORDER BY seq
