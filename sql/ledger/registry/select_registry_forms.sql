-- purpose: every registry form loaded, in loading order.
SELECT * FROM registry_form ORDER BY form_id
