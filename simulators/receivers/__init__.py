"""Faithful stand-ins for the receivers of the HTTP push protocol (docs/protocol/receivers.md).

One process plays every receiver the gateway pushes work orders to:

- every county registration system in system mode (系统对接), base `/county/{xzqh}`;
- State Grid Shandong's marketing system (总对总), base `/grid`.

It speaks the protocol as a receiver owned by another organisation would, and on purpose
implements it independently of the gateway's client (connectors/http_receiver.py): HMAC checks,
the 300 s clock window, 400 on malformed batches, idempotency by `idempotency_key` kept in a
SQLite file (a restarted receiver still answers a re-sent item "0201 duplicate" with its
original receipt id), a token bucket per receiver when a rate is set (the grid's limit).

Business rejections are deterministic, so tests know the truth:

- `0101` the item's account field (YDHH / YSHH / YQHH / YNHH) is missing or empty, the record's
  ROWGUID is not the item's, or (county) XZQH is missing;
- `0301` not this receiver's: a county receiver gets a record whose XZQH is another county, or
  an electricity item; the grid gets a water / gas / heat item;
- `0002` no such account: the account number (spaces removed) ends in "0002".

Cancellations (`POST {base}/v1/work-orders:cancel`): the work order named (that version and every
earlier one held) stops — its planned results not yet visible are dropped — answered `0000`; `0201`
for a cancellation seen before; `0404` when nothing is held; `0409` when a final result was already
published (too late). `GET /_sim/in-force` is the truth of what each receiver holds in force.

Handling results (办理结果) come back through `GET {base}/v1/results`, a feed ordered by `seq`.
Every accepted item gets a fate when it is accepted, decided from a hash of (receiver,
idempotency_key) and the configured mix (`POST /_sim/results`): done (0000), duplicate
application (0201), no such account (0002), arrears (0003), another refusal (0009), late (0000
after `late_days`) or silent (never anything). With `acknowledge`, a 0100 "received" result is
dated at acceptance first. The planned results are kept in the SQLite state; each becomes
visible, and only then takes the next `seq` of its receiver's feed, once its `handled_at` is not
after the simulator's business clock (`POST /_sim/clock`; real Asia/Shanghai time by default).
`GET /_sim/results` is the truth (every planned result, visible or not); `POST /_sim/inject`
appends any JSON to a feed, to test the gateway's checks of what receivers send.

Faults for tests are set through loopback control endpoints (`/_sim/...`, no auth), drawn from
a seeded `random.Random` so a test sees the same sequence every time.

    python -m simulators.receivers --port 0 --state var/receivers.db --key gw:SECRET [--rate 20]

prints `LISTENING http://127.0.0.1:<port>` once it accepts connections
(simulators/receivers/__main__.py). `ReceiverProcess` (simulators/receivers/receiver_process.py)
runs that as a real separate process for tests and `make run`.

The package, by concern: work_order_wire.py (what a request must look like: batches, cancels,
the feed query, business rejections), handling_results.py (the fates and times of results),
receiver_state.py (the SQLite state, faults, auth and rate buckets), receiver_app.py (the
FastAPI routes and /_sim controls), package_routes.py (the property side's endpoints of
simulators/registration.py), receiver_process.py (the process and its control client).
"""
