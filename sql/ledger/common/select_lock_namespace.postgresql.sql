-- purpose: the ledger's database and schema: stage-lock keys are derived from them, so two ledgers in one cluster never share a lock.
SELECT current_database() AS db, current_schema() AS schema_name
