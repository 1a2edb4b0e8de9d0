-- purpose: the exchange database's clock in UTC, the same clock that stamps CHANGE_TIME.
SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')
