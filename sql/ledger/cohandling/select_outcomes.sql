-- purpose: each work-order version's outcome (first acknowledgement, first final result).
SELECT * FROM work_order_outcome
