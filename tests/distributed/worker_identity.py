"""``[core] hostname_callable`` for the two Celery workers of the topology test: both run on
this machine, so each reports the name its environment gives it instead of the host's."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("LABEL_OVERVIEW_WORKER_NAME") or socket.getfqdn()
