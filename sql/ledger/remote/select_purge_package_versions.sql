-- purpose: the retention purge — every version (source, change_seq) received of the BWIDs :bwids.
SELECT source, change_seq FROM remote_package WHERE bwid IN :bwids
