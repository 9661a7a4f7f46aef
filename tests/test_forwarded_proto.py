"""Whether a request came over https is not the client's to say: X-Forwarded-Proto is
trusted only when a proxy that overwrites it is declared (TRUST_X_FORWARDED_PROTO)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_compose_file_trusts_the_header_only_behind_its_proxy():
    """gunicorn is reached only through the compose file's proxy, which overwrites the
    header on every request; that alone is why the compose file trusts it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "beat"):
        value = compose["services"][name]["environment"]["TRUST_X_FORWARDED_PROTO"]
        assert value == "${TRUST_X_FORWARDED_PROTO:-true}", (name, value)
    assert "ports" not in compose["services"]["web"]
    proxy = (ROOT / "deploy" / "nginx" / "fieldkit.conf.template").read_text()
    proxied = proxy.count("proxy_pass ")
    assert proxy.count("proxy_set_header X-Forwarded-Proto $scheme;") == proxied == 2


def proxy_header_setting(env: dict[str, str]) -> str:
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={"DJANGO_SETTINGS_MODULE": "fieldkit.settings", "PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_settings_trust_the_header_only_when_told():
    assert proxy_header_setting({}) == "None"
    assert proxy_header_setting({"TRUST_X_FORWARDED_PROTO": "false"}) == "None"
    assert proxy_header_setting({"TRUST_X_FORWARDED_PROTO": "true"}) == "('HTTP_X_FORWARDED_PROTO', 'https')"
