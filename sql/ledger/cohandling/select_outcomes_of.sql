-- purpose: the outcomes recorded for the given ROWGUIDs (every utility and version).
SELECT * FROM work_order_outcome WHERE rowguid IN :rowguids
