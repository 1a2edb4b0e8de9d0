-- purpose: every (channel, destination) a work-order version was or may have been sent to: the drops results files are collected from and the feeds polled.
SELECT DISTINCT channel, destination FROM delivery
WHERE status IN ('delivered', 'pending', 'superseded') AND destination IS NOT NULL
