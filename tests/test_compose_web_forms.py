"""docker-compose.yml runs Enketo Express with its two Redis beside fieldkit, configured from
the same .env, behind one HTTPS proxy that sends /-/ to Enketo and the rest to fieldkit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PROXY = (ROOT / "deploy" / "nginx" / "fieldkit.conf.template").read_text()


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_the_compose_file_is_valid():
    subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT, check=True, timeout=60
    )


def test_enketo_and_its_redis():
    enketo = SERVICES["enketo"]
    assert enketo["image"] == "ghcr.io/enketo/enketo:7.6.4"
    env = enketo["environment"]
    assert env["ENKETO_BASE_PATH"] == "/-"
    assert (env["ENKETO_REDIS_MAIN_HOST"], env["ENKETO_REDIS_MAIN_PORT"]) == ("enketo_redis_main", "6379")
    assert (env["ENKETO_REDIS_CACHE_HOST"], env["ENKETO_REDIS_CACHE_PORT"]) == ("enketo_redis_cache", "6380")
    assert "6379" in SERVICES["enketo_redis_main"]["command"]
    assert "6380" in SERVICES["enketo_redis_cache"]["command"]
    assert set(enketo["depends_on"]) == {"enketo_redis_main", "enketo_redis_cache"}


def test_one_env_configures_both():
    """The API key Enketo checks is the one fieldkit sends, from the same .env."""
    enketo = SERVICES["enketo"]["environment"]
    for name in ("web", "worker", "beat"):
        env = SERVICES[name]["environment"]
        assert (
            env["ENKETO_API_KEY"]
            == enketo["ENKETO_LINKED_FORM_AND_DATA_SERVER_API_KEY"]
            == "${ENKETO_API_KEY:-}"
        )
        assert env["ENKETO_URL"] == "${ENKETO_URL-http://enketo:8005/-}"
        assert env["ENKETO_PUBLIC_URL"] == "${SITE_URL:-http://localhost:8000}/-"
    assert enketo["ENKETO_LINKED_FORM_AND_DATA_SERVER_SERVER_URL"] == "${FIELDKIT_DOMAIN:-localhost}"


def test_the_proxy_sends_dash_to_enketo_and_the_rest_to_fieldkit():
    proxy = SERVICES["proxy"]
    assert (
        "./deploy/nginx/fieldkit.conf.template:/etc/nginx/templates/default.conf.template:ro"
        in proxy["volumes"]
    )
    assert proxy["networks"]["default"]["aliases"] == ["${FIELDKIT_DOMAIN:-localhost}"]
    locations = dict(re.findall(r"location\s+([^{]+?)\s*\{([^}]*)\}", PROXY))
    assert "proxy_pass http://enketo:8005;" in locations["/-/"]
    assert "proxy_pass http://web:8000;" in locations["/"]
    assert "listen 443 ssl;" in PROXY
    # Plain HTTP is only a redirect to HTTPS: cookies and passwords never go over it.
    http = PROXY.split("server {")[1]
    assert "return 301 https://$host$request_uri;" in http and "proxy_pass" not in http


def test_check_deploy_is_clean_with_web_forms(tmp_path):
    from tests.test_settings import check_deploy, warning_ids

    result = check_deploy(
        tmp_path,
        ENKETO_URL="http://enketo:8005/-",
        ENKETO_PUBLIC_URL="https://fieldkit.example.org/-",
        ENKETO_API_KEY="k" * 128,
    )
    output = result.stdout + result.stderr
    assert warning_ids(output) == [], output
    half = check_deploy(tmp_path, ENKETO_URL="http://enketo:8005/-")
    assert warning_ids(half.stdout + half.stderr) == ["fieldkit.W070"]
