-- purpose: select_delivered_versions for some ROWGUIDs only (those a result file or feed page names): what its results are checked against, so that a collection reads what it checks and not the whole ledger.
SELECT d.rowguid, d.utility, d.version, d.channel, d.destination, d.delivered_at,
       w.status AS order_status, w.version AS order_version
FROM delivery d
LEFT JOIN work_order w ON w.rowguid = d.rowguid AND w.utility = d.utility
WHERE d.status IN ('delivered', 'pending', 'superseded')
  AND d.rowguid IN :rowguids
