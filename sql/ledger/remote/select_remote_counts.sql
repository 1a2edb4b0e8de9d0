-- purpose: the remote-collection balance: package versions received, and verdicts by status (in = passed + returned + withdrawn).
SELECT
    (SELECT count(*) FROM remote_package) AS packages,
    (SELECT count(*) FROM remote_verdict) AS verdicts,
    (SELECT count(*) FROM remote_verdict WHERE status = 'passed') AS passed,
    (SELECT count(*) FROM remote_verdict WHERE status = 'returned') AS returned,
    (SELECT count(*) FROM remote_verdict WHERE status = 'withdrawn') AS withdrawn,
    (SELECT count(*) FROM remote_package_state) AS bwids
