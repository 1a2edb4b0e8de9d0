-- purpose: which remote-collection package changes in a sequence range the ledger already holds (a re-read is counted, not loaded twice).
SELECT change_seq FROM remote_package WHERE source = :source AND change_seq >= :low AND change_seq <= :high
