"""The deployment to copy: Dockerfile, compose.yaml and deploy/ (docs/deploy.md).

Nothing here needs a container runtime: the files' structure is checked by parsing
them, and the image's command (gunicorn with deploy/gunicorn.conf.py, the production
settings, the health-check script) runs as a plain process. Building the image runs
only where ``docker info`` answers.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
# postgres:15.20-bookworm, redis:7.0.15-bookworm, python:3.11.7-slim-bookworm (and
# optionally @sha256:...): never a bare major version or "latest".
EXACT_VERSION = re.compile(r":\d+\.\d+(\.\d+)?(-[\w.-]+)?(@sha256:[0-9a-f]{64})?$")
SERVICES = {"web", "worker", "beat", "db", "redis"}


def _compose() -> dict:
    return yaml.safe_load((REPOSITORY / "compose.yaml").read_text())


def _dockerfile() -> str:
    return (REPOSITORY / "Dockerfile").read_text()


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _stages(text: str) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions(text):
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _substituted(value: str) -> str:
    """Compose's ${VAR:?...} / ${VAR:-default} with test values for the secrets."""

    def replace(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3)
        if operator == ":-":
            return default
        return {"DJANGO_ALLOWED_HOSTS": "members.example.org"}.get(
            name, secrets.token_urlsafe(50)
        )

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", replace, value)


# --- compose.yaml -------------------------------------------------------------------


def test_compose_has_web_worker_beat_postgresql_and_redis_with_health_checks():
    services = _compose()["services"]
    assert set(services) >= SERVICES
    for name in SERVICES:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no health check"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert "/readyz" in services["web"]["healthcheck"]["test"]
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_compose_pins_its_images_and_builds_the_app_from_the_dockerfile():
    services = _compose()["services"]
    for name in ("db", "redis"):
        image = services[name]["image"]
        assert EXACT_VERSION.search(image), f"{name}: {image} is not an exact version"
    assert re.search(r":\d+\.\d+\.\d+", services["redis"]["image"])
    assert services["db"]["image"].startswith("postgres:15."), (
        "pg_dump in the image is PostgreSQL 15 (bookworm): keep the server on 15"
    )
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["build"] == "."
        assert not services[name].get("privileged")
        assert services[name].get("user") in (None, "10001:10001")


def test_compose_starts_the_app_only_after_migrations_and_healthy_services():
    services = _compose()["services"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_compose_requires_the_secrets_and_keeps_the_web_port_on_loopback():
    compose = _compose()
    environment = compose["services"]["web"]["environment"]
    for name in (
        "DJANGO_SECRET_KEY",
        "COMMONGROUND_BALLOT_KEY",
        "DJANGO_ALLOWED_HOSTS",
    ):
        assert environment[name].startswith("${" + name + ":?"), name
    assert ":?" in environment["DATABASE_URL"]  # the database password
    assert environment["DJANGO_SETTINGS_MODULE"].endswith("settings_production")
    assert all(
        str(port).startswith("127.0.0.1:")
        for port in compose["services"]["web"]["ports"]
    )
    assert "media" in compose["volumes"] and "postgres" in compose["volumes"]


def test_the_example_environment_names_every_required_secret():
    example = (REPOSITORY / "deploy" / "env.example").read_text()
    text = (REPOSITORY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required
    for name in required:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name


# --- Dockerfile ---------------------------------------------------------------------


def test_dockerfile_is_multi_stage_from_a_pinned_base_image():
    text = _dockerfile()
    stages = _stages(text)
    assert len(stages) >= 2
    default_base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert default_base and EXACT_VERSION.search(default_base.group(1))
    assert re.match(r"python:3\.11\.\d+-", default_base.group(1))  # the tested Python
    for stage in stages:
        image = stage[0][1].split()[0]
        assert image == "${PYTHON_IMAGE}" or EXACT_VERSION.search(image), image
        assert ":latest" not in image


def test_dockerfile_runs_as_an_unprivileged_user_with_a_health_check():
    final = _stages(_dockerfile())[-1]
    users = [arguments for word, arguments in final if word == "USER"]
    assert users, "the final stage must switch to a non-root user"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit() and int(user) >= 1000  # numeric: runAsNonRoot can verify it
    health = [arguments for word, arguments in final if word == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]
    command = [arguments for word, arguments in final if word == "CMD"][-1]
    assert json.loads(command)[:3] == [
        "gunicorn",
        "--config",
        "/etc/commonground/gunicorn.conf.py",
    ]


def test_dockerfile_collects_static_files_at_build_and_copies_only_what_exists():
    stages = _stages(_dockerfile())
    build_steps = " ".join(arguments for word, arguments in stages[0] if word == "RUN")
    assert "collectstatic --no-input" in build_steps
    assert "settings_production" in build_steps
    for stage in stages:
        for word, arguments in stage:
            if word == "COPY" and "--from" not in arguments:
                for source in arguments.split()[:-1]:
                    assert (REPOSITORY / source).exists(), source
    ignored = (REPOSITORY / ".dockerignore").read_text().split()
    for private in (".git", ".venv", "var", ".env"):
        assert private in ignored


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """The Dockerfile's collectstatic step, run as it is written there, outside Docker."""
    tmp_path = tmp_path_factory.mktemp("build")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings_production",
        DJANGO_SECRET_KEY="collectstatic-at-build-time-only-never-used-to-serve",
        DJANGO_ALLOWED_HOSTS="build.invalid",
        DATABASE_URL=f"sqlite:///{tmp_path / 'build.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        COMMONGROUND_HOME=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "commonground.cli", "manage", "collectstatic", "--no-input"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp_path / "static"


def test_the_build_step_collects_hashed_static_files(collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    assert "css/site.css" in manifest["paths"]
    assert (collected_static / manifest["paths"]["css/site.css"]).exists()


def test_check_deploy_is_clean_with_the_compose_environment(tmp_path):
    environment = _compose()["services"]["web"]["environment"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    env.update({name: _substituted(str(value)) for name, value in environment.items()})
    env["COMMONGROUND_HOME"] = str(tmp_path)
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")
    result = subprocess.run(
        [sys.executable, "-m", "commonground.cli", "manage", "check", "--deploy",
         "--fail-level", "WARNING"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- the image's command, run as a process --------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_server(tmp_path, collected_static):
    """gunicorn as the image runs it: deploy/gunicorn.conf.py and production settings."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="commonground.site.settings_production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="members.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        COMMONGROUND_HOME=str(tmp_path),
        DJANGO_STATIC_ROOT=str(collected_static),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        LOG_LEVEL="INFO",
    )
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config",
         str(REPOSITORY / "deploy" / "gunicorn.conf.py"),
         "commonground.site.wsgi:application"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            if _healthcheck(env, "/healthz").returncode == 0:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("gunicorn did not answer /healthz in 60 s")
        yield env, tmp_path / "gunicorn.log"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _healthcheck(env: dict[str, str], path: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPOSITORY / "deploy" / "healthcheck.py"), path],
        env=env, capture_output=True, text=True, timeout=20,
    )  # fmt: skip


@pytest.mark.slow
def test_the_image_command_serves_health_checks_and_writes_json_logs(
    production_server,
):
    env, log_path = production_server
    assert _healthcheck(env, "/healthz").returncode == 0
    ready = _healthcheck(env, "/readyz")
    assert ready.returncode == 0, ready.stderr
    assert _healthcheck(env, "/no-such-page").returncode == 1  # a 404
    time.sleep(0.5)
    lines = [
        json.loads(line)
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("logger") == "commonground.request"]
    assert {line["route"] for line in requests} >= {"healthz", "readyz"}
    for line in requests:
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert "path" not in line and "?" not in line["message"]
    assert any(line.get("logger") == "gunicorn.error" for line in lines)


# --- building the image, where a container runtime exists ------------------------------


def _docker_works() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return (
            subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
def test_the_image_builds_and_passes_check_deploy_inside():
    if not _docker_works():
        pytest.skip("no container runtime (`docker info` fails): structure tests only")
    tag = f"commonground-test:{secrets.token_hex(4)}"
    build = subprocess.run(
        ["docker", "build", "--tag", tag, "."],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    try:
        check = subprocess.run(
            ["docker", "run", "--rm",
             "-e", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
             "-e", "DJANGO_ALLOWED_HOSTS=members.example.org",
             "-e", "DATABASE_URL=postgres://x:y@db:5432/z",
             tag, "commonground", "manage", "check", "--deploy", "--fail-level", "WARNING"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        whoami = subprocess.run(
            ["docker", "run", "--rm", tag, "id", "-u"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert whoami.stdout.strip() == "10001"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
