-- purpose: lifetime balance — work orders in force, counted on their own, and what must never be (a work order without its record, one not in the history, a delivery of no version).
SELECT
    (SELECT count(*) FROM work_order) AS received,
    (SELECT count(*) FROM work_order w WHERE NOT EXISTS (SELECT 1 FROM record_state s WHERE s.rowguid = w.rowguid)) AS work_orders_without_record,
    (SELECT count(*) FROM work_order w
     WHERE NOT EXISTS (SELECT 1 FROM work_order_version h WHERE h.rowguid = w.rowguid AND h.utility = w.utility AND h.version = w.version)) AS work_orders_without_history,
    (SELECT count(*) FROM delivery d
     WHERE NOT EXISTS (SELECT 1 FROM work_order_version h WHERE h.rowguid = d.rowguid AND h.utility = d.utility AND h.version = d.version)) AS deliveries_without_version
