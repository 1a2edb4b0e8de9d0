-- purpose: each work-order version's outcome (first acknowledgement, first final result), for some ROWGUIDs only.
SELECT * FROM work_order_outcome WHERE rowguid IN :rowguids
