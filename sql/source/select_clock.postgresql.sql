-- purpose: the exchange database's clock in UTC, the same clock that stamps CHANGE_TIME.
SELECT clock_timestamp() AT TIME ZONE 'UTC'
