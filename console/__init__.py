"""The gateway's web console and the institutions' board (console/app.py); served by Airflow's API server through
plugins/gateway_console.py, or standalone by `python -m console`."""
