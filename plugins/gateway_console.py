"""The gateway's web console in Airflow's API server (Airflow 3.3 plugin: `fastapi_apps`, mounted at /gateway).

Same login as the Airflow UI: console/auth.AirflowSignIn checks the JWT Airflow issued (the `_token` cookie or a
Bearer header) with Airflow's own `resolve_user_from_token`; who sees what comes from $GATEWAY_CONSOLE_USERS
(console/scopes.py). The ledger is the `gateway_ledger` connection, opened at the first request.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from console.app import create_app
from console.auth import AirflowSignIn


class _Ledger:
    """The ledger, opened from its connection when the console first needs it (not when the API server imports plugins)."""

    _ledger = None

    def __getattr__(self, name):
        if type(self)._ledger is None:
            from connectors.ledger import Ledger
            from jobs.common.settings import LEDGER_CONN_ID

            type(self)._ledger = Ledger.from_conn_id(LEDGER_CONN_ID)
        return getattr(type(self)._ledger, name)


class GatewayConsole(AirflowPlugin):
    name = "gateway_console"
    fastapi_apps = [{"app": create_app(_Ledger(), signin=AirflowSignIn()), "url_prefix": "/gateway", "name": "协办网关控制台 gateway console"}]
    # An entry in the Airflow UI's navigation: the console in the UI's frame (same origin, same login).
    external_views = [{"name": "协办网关控制台", "href": "/gateway/", "destination": "nav", "url_route": "gateway-console"}]
