-- purpose: console board: the keys of an institution's open work orders (delivered, acknowledged, overdue) for its download.
SELECT rowguid, utility, version FROM order_status WHERE institution_code = :institution_code AND status IN ('delivered', 'acknowledged')
