"""A real HTTP receiver for webhook tests: http.server on 127.0.0.1 in a thread, answering
with the status codes it is given in turn, checking each signature as a subscriber would
(the snippet of the README), and keeping what it received."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, secret: str = "", statuses: list[int] | None = None) -> None:
        self.secret = secret
        self.statuses = list(statuses or [])
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers.get("X-Fieldkit-Timestamp", "")
                signed = self.headers.get("X-Fieldkit-Signature", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                receiver.received.append(
                    {
                        "event": self.headers.get("X-Fieldkit-Event"),
                        "delivery": self.headers.get("X-Fieldkit-Delivery"),
                        "verified": hmac.compare_digest(expected, signed)
                        and abs(time.time() - int(stamp or 0)) < 300,
                        "body": json.loads(body),
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def events(self) -> list[str]:
        return [r["event"] for r in self.received]
