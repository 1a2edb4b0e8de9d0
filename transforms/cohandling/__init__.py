"""The co-handling record (Annex 1): normalisation, rules, routing, batch files, results, reconciliation."""
