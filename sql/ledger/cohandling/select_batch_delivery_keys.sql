-- purpose: the work-order versions of a delivery batch (rowguid, utility, version).
SELECT rowguid, utility, version FROM delivery WHERE batch_id = :batch_id
