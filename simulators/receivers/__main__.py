"""`python -m simulators.receivers --port 0 --state FILE --key KEYID:SECRET [--key-file FILE] [--answer-key KEYID:SECRET] [--rate N]`: serve the
simulated receivers on loopback and print `LISTENING http://127.0.0.1:<port>` once connections are accepted."""

from __future__ import annotations

import argparse
import asyncio
import socket

from simulators.receivers.receiver_app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.receivers", description="Simulated county systems and grid marketing API.")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--state", required=True, help="SQLite file of accepted work orders (kept across restarts)")
    parser.add_argument("--key", action="append", default=[], metavar="KEYID:SECRET", help="a client key; repeatable")
    parser.add_argument("--key-file", action="append", default=[], metavar="FILE",
                        help="client keys, one KEYID:SECRET a line (kept out of the process list); repeatable")
    parser.add_argument("--answer-key", action="append", default=[], metavar="KEYID:SECRET",
                        help="the key answers to KEYID's requests are signed with (default: KEYID's secret); repeatable")
    parser.add_argument("--rate", type=float, default=None, help="requests per second per receiver (the grid's limit)")
    args = parser.parse_args(argv)
    pairs = list(args.key)
    for path in args.key_file:
        with open(path, encoding="utf-8") as fh:
            pairs += [line.strip() for line in fh if line.strip()]
    if not pairs:
        parser.error("at least one --key or --key-file is required")
    keys, answer_keys = {}, {}
    for target, given in ((keys, pairs), (answer_keys, args.answer_key)):
        for pair in given:
            key_id, sep, secret = pair.partition(":")
            if not sep or not key_id or not secret:
                parser.error("--key and --answer-key must be KEYID:SECRET")
            target[key_id] = secret

    import uvicorn

    app = create_app(keys=keys, state_path=args.state, rate_per_s=args.rate, answer_keys=answer_keys)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart takes its port back at once
    # Accepted connections inherit it: no 40 ms Nagle / delayed-ACK stall between a response's head and body.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    # keep-alive longer than the client's idle pool, so a kept connection is not closed under it
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30))

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
                return
            await asyncio.sleep(0.01)
        print(f"LISTENING http://127.0.0.1:{port}", flush=True)
        await task

    asyncio.run(serve())



if __name__ == "__main__":
    main()
