-- purpose: institutions in force in the given counties, counted by utility and channel.
SELECT xzqh, utility, channel, count(*) FROM institution WHERE xzqh IN :counties AND valid_to IS NULL GROUP BY xzqh, utility, channel
