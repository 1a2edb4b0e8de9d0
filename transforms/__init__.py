"""Pure transforms over pandas / Arrow tables: no Airflow, no I/O, no clock."""
