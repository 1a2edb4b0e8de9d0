"""The name a Celery worker of the local deployment reports as its host (`[core] hostname_callable`).

Two workers on one machine would otherwise both report the machine's name, and a task instance's
hostname could not tell which of them ran it. Each worker of the local deployment is started with
GATEWAY_WORKER_HOSTNAME (deploy/local/supervisord.conf.in); on separate hosts the default, the
host's FQDN, is what production uses.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("GATEWAY_WORKER_HOSTNAME") or socket.getfqdn()
