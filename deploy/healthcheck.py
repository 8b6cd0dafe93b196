"""Container health check: ``python healthcheck.py [/healthz|/readyz]``; exit 0 if 200.

Asks the local gunicorn as the public site would be asked: with the first host of
DJANGO_ALLOWED_HOSTS and ``X-Forwarded-Proto: https`` (as the TLS proxy sends), so
host validation and the HTTPS redirect let it through. Standard library only: the
slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")
    host = hosts[0].strip().lstrip(".") or "localhost"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
