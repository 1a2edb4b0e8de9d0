-- purpose: trace: the records a key names as a ROWGUID received but not validated yet, or as a platform business number (YCYWH): received_record has no index on either column (a scan; tried last).
SELECT DISTINCT rowguid, ycywh FROM received_record WHERE rowguid = :key OR ycywh = :key
