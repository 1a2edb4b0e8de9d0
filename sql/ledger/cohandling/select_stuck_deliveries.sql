-- purpose: work the deliver stage still owes past an age, by channel and receiver — work orders in force not yet confirmed by their receiver (account: batch not published; system / grid: no 0000 / 0201 answer; or not planned yet) routed before :before, and cancellations not yet confirmed planned before :before — with counts and the oldest time (UTC).
SELECT kind, channel, destination, MIN(institution_code) AS institution_code, MIN(institution_name) AS institution_name,
       COUNT(*) AS units, MIN(since) AS oldest
FROM (
    SELECT 'work_order' AS kind, w.channel, w.destination, w.institution_code, i.name AS institution_name, w.routed_at AS since
    FROM work_order w
    LEFT JOIN delivery d ON d.rowguid = w.rowguid AND d.utility = w.utility AND d.version = w.version
    LEFT JOIN institution i ON i.version_id = w.institution_version_id
    WHERE w.status = 'ready' AND w.channel IS NOT NULL AND w.destination IS NOT NULL
      AND (d.status IS NULL OR d.status = 'pending') AND w.routed_at < :before
    UNION ALL
    SELECT 'cancel' AS kind, c.channel, c.destination, w.institution_code, i.name AS institution_name, c.created_at AS since
    FROM work_order_cancel c
    LEFT JOIN work_order w ON w.rowguid = c.rowguid AND w.utility = c.utility
    LEFT JOIN institution i ON i.version_id = w.institution_version_id
    WHERE c.status = 'pending' AND c.created_at < :before
) stuck
GROUP BY kind, channel, destination
ORDER BY channel, destination, kind
