-- purpose: work orders in force, all of them or one ROWGUID's (:rowguid NULL for all).
SELECT * FROM work_order WHERE (CAST(:rowguid AS VARCHAR(64)) IS NULL OR rowguid = :rowguid) ORDER BY rowguid, utility, version
