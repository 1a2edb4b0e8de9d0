"""Who is asking: the user name of a console request.

- `AirflowSignIn` — the console mounted in Airflow's API server (plugins/gateway_console.py): the JWT Airflow's auth
  manager issued at sign-in, from the `Authorization: Bearer` header or the `_token` cookie the Airflow UI holds,
  checked by Airflow's own `resolve_user_from_token` (airflow.api_fastapi.core_api.security, Airflow 3.3) — the
  same login as the Airflow UI; not signed in: Airflow's login page (`auth_manager.get_url_login`).
- `FormSignIn` — standalone (`python -m console`, the tests): the console's own form checks the `password` of the
  users file (the demo's) and keeps the name in a signed, HttpOnly session cookie (itsdangerous, 8 hours).
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import Request

SESSION_COOKIE = "gateway_console"
SESSION_S = 8 * 3600


class AirflowSignIn:
    own_form = False

    async def user(self, request: Request) -> str | None:
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
        from airflow.api_fastapi.core_api.security import resolve_user_from_token
        from fastapi import HTTPException

        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            return None
        try:
            user = await resolve_user_from_token(token)
        except HTTPException:  # expired or not Airflow's: sign in again
            return None
        return user.get_name()

    def login_url(self, request: Request) -> str:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=str(request.url))


class FormSignIn:
    own_form = True

    def __init__(self, secret: str) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.signer = URLSafeTimedSerializer(secret, salt="gateway-console")

    async def user(self, request: Request) -> str | None:
        from itsdangerous import BadSignature

        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            return self.signer.loads(cookie, max_age=SESSION_S)
        except BadSignature:
            return None

    def login_url(self, request: Request) -> str:
        base = request.scope.get("root_path", "")
        return f"{base}/login?next={quote(request.url.path)}"

    def session(self, name: str) -> str:
        return self.signer.dumps(name)

    @staticmethod
    def password_ok(expected: str | None, given: str) -> bool:
        return expected is not None and hmac.compare_digest(expected.encode(), given.encode())
