"""One small interface per external system: the platform's exchange database, the gateway
ledger, and (later) the SFTP drops and HTTP receivers. Clients are built at run time from an
Airflow Connection id or a URL; raw connections never leave this package."""
