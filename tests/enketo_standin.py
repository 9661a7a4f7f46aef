"""A stand-in for Enketo Express's API v2, served on 127.0.0.1 from a thread.

It answers as Enketo's api-v2-controller does (enketo/enketo, packages/enketo-express/app/
controllers/api-v2-controller.js, 7.6.4): the API key is the Basic user name (401 with a
WWW-Authenticate challenge otherwise), the server URL must lie under the linked server
(403 "Forbidden. This server is not linked with Enketo."), links are built from the Host of
the request and the base path, 201 when a survey is new and 200 after, the instance endpoint
answers 201 with an edit_url, a disabled offline mode is a 405, and every error is JSON
`{"message": ..., "code": ...}`. Fields arrive form-encoded, `instance_attachments[name]`
as express's extended body parser reads them.

`fail_with` makes every call answer that status; `delay` makes it slow (a timeout).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

from django.test import override_settings

API_KEY = "enketo-api-key-for-tests"
BASE_PATH = "/-"


class EnketoStandIn:
    def __init__(self, linked_server: str | None = None, offline_enabled: bool = True) -> None:
        from django.conf import settings

        # Enketo's "linked form and data server": fieldkit's SITE_URL, as docker-compose.yml sets it.
        self.linked_server = linked_server or settings.SITE_URL
        self.offline_enabled = offline_enabled
        self.requests: list[dict[str, Any]] = []
        self.surveys: dict[tuple[str, str], str] = {}
        self.instances: dict[str, dict[str, Any]] = {}
        self.fail_with: tuple[int, str] | None = None
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{BASE_PATH}"

    def start(self) -> EnketoStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                standin._handle(self)

            def do_GET(self) -> None:
                standin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def settings(self, **extra: Any) -> override_settings:
        """fieldkit's settings pointing at the stand-in."""
        return override_settings(
            ENKETO_URL=self.url,
            ENKETO_PUBLIC_URL=extra.pop("ENKETO_PUBLIC_URL", self.url),
            ENKETO_API_KEY=extra.pop("ENKETO_API_KEY", API_KEY),
            ENKETO_TIMEOUT=extra.pop("ENKETO_TIMEOUT", 2.0),
            **extra,
        )

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    # --- Enketo's behaviour ----------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length).decode() if length else ""
        fields = dict(parse_qsl(body, keep_blank_values=True))
        path = http.path.split("?", 1)[0]
        self.requests.append(
            {
                "path": path,
                "method": http.command,
                "fields": fields,
                "authorization": http.headers.get("Authorization", ""),
                "content_type": http.headers.get("Content-Type", ""),
            }
        )
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            return self._send(http, self.fail_with[0], {"message": self.fail_with[1]})
        prefix = f"{BASE_PATH}/api/v2"
        if not path.startswith(prefix + "/"):
            return self._send(http, 404, {"message": "Not found."})
        endpoint = path[len(prefix) + 1 :]
        if not self._key_ok(http.headers.get("Authorization", "")):
            return self._send(
                http,
                401,
                {"message": "Not Allowed. Invalid API key."},
                {"WWW-Authenticate": 'Basic realm="Enter valid API key as user name"'},
            )
        server_url = fields.get("server_url", "")
        if not re.match(rf"https?://{re.escape(self._strip(self.linked_server))}", server_url):
            return self._send(http, 403, {"message": "Forbidden. This server is not linked with Enketo."})
        form_id = fields.get("form_id", "")
        if not form_id:
            return self._send(http, 400, {"message": "Bad Request. Form ID and/or server URL not provided."})
        if http.command != "POST":
            return self._send(http, 405, {"message": "Not allowed."})
        base = f"http://{http.headers['Host']}{BASE_PATH}/"
        key = (server_url, form_id)
        status = 200 if key in self.surveys else 201
        enketo_id = self.surveys.setdefault(key, hashlib.sha1(repr(key).encode()).hexdigest()[:8])  # noqa: S324
        if endpoint == "survey":
            return self._send(http, status, {"url": base + enketo_id})
        if endpoint == "survey/offline":
            if not self.offline_enabled:
                return self._send(http, 405, {"message": "Not Allowed."})
            return self._send(http, status, {"offline_url": f"{base}x/{enketo_id}"})
        if endpoint == "survey/preview":
            return self._send(http, status, {"preview_url": f"{base}preview/{enketo_id}"})
        if endpoint == "instance":
            instance_id = fields.get("instance_id", "")
            if not fields.get("instance") or not instance_id:
                return self._send(http, 400, {"message": "Bad Request. Survey information not complete."})
            attachments = {
                m.group(1): value
                for name, value in fields.items()
                if (m := re.fullmatch(r"instance_attachments\[(.+)\]", name))
            }
            self.instances[instance_id] = {**fields, "attachments": attachments}
            query = f"instance_id={instance_id}"
            if fields.get("return_url"):
                query += "&return_url=" + quote(fields["return_url"], safe="")
            return self._send(http, 201, {"edit_url": f"{base}edit/{enketo_id}?{query}"})
        return self._send(http, 405, {"message": "Not allowed."})

    @staticmethod
    def _strip(url: str) -> str:
        return url.split("://", 1)[1] if "://" in url else url

    @staticmethod
    def _key_ok(header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            name = base64.b64decode(value).decode().partition(":")[0]
        except ValueError:
            return False
        return name == API_KEY

    @staticmethod
    def _send(
        http: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps({**body, "code": status}).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json; charset=utf-8")
        http.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(payload)
