"""`python -m console [--port 8765] [--ledger URL]`: the console standalone, on 127.0.0.1, with its own sign-in form
(the users and demo passwords of $GATEWAY_CONSOLE_USERS, default console/demo_users.json) — for the demo ledger
`make run` leaves in var/ledger.db. Inside Airflow the console is served by the API server instead
(plugins/gateway_console.py, Airflow's own login)."""

from __future__ import annotations

import argparse
import secrets


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from connectors.ledger import Ledger
    from console.app import create_app
    from console.auth import FormSignIn
    from jobs.common.settings import VAR

    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ledger", default=f"sqlite:///{VAR / 'ledger.db'}", help="the ledger's SQLAlchemy URL (default: the demo's)")
    args = parser.parse_args(argv)
    app = create_app(Ledger(args.ledger), signin=FormSignIn(secrets.token_hex(32)))
    print(f"协办网关控制台 console: http://127.0.0.1:{args.port}/  (Ctrl-C to stop)")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
