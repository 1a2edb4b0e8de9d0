-- purpose: the cancellations of the given ROWGUIDs (rowguid, utility, cause_version, status).
SELECT rowguid, utility, cause_version, status FROM work_order_cancel WHERE rowguid IN :rowguids
