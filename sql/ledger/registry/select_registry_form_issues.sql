-- purpose: the issues found in one registry form, in order.
SELECT * FROM registry_form_issue WHERE form_id = :form_id ORDER BY seq
