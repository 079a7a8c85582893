"""The production deployment files (deploy/) checked against the code.

Each test asserts something that would break a real deployment: a command the CLI does not
have, a variable nobody documented, new code starting before `niangjia migrate`, addresses that
disagree between nginx, Compose and the environment file, a unit file systemd rejects, an nginx
configuration nginx rejects or that routes, retries or logs the wrong way. A tool missing here
(nginx, systemd-analyze, docker compose) skips its test and says why.
"""
from __future__ import annotations

import argparse
import ast
import configparser
import fnmatch
import graphlib
import http.client
import ipaddress
import os
import pwd
import grp
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bot.cli import _rasa_env, build_parser
from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / "niangjia.env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
NGINX_CONF = DEPLOY / "nginx" / "niangjia.conf"
SYSTEMD = DEPLOY / "systemd"
APP_IMAGE = "niangjia"  # the image built from the repository (deploy/Dockerfile)
SERVER_NAME = "chat.example.org"


# --- the project CLI ------------------------------------------------------------------------------

def parse_cli(argv: list[str]) -> argparse.Namespace:
    try:
        return build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`niangjia {' '.join(argv)}` is not a valid command of the project CLI "
                    f"(bot.cli.build_parser)")


def niangjia_invocations(command: str | list[str]) -> list[list[str]]:
    """The arguments of every `niangjia …` in a Compose command or a systemd ExecStart line
    (also inside `sh -c '…'`)."""
    words = list(command) if isinstance(command, list) else shlex.split(command)
    if len(words) >= 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
        lexer = shlex.shlex(words[2], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
    found = []
    for i, word in enumerate(words):
        if word == "niangjia" or word.endswith("/bin/niangjia"):
            args = []
            for arg in words[i + 1:]:
                if re.fullmatch(r"[();<>|&]+", arg):
                    break
                args.append(arg)
            found.append(args)
    return found


# --- environment variables --------------------------------------------------------------------------

def code_variables() -> set[str]:
    """Every variable bot/config.py reads (env.get("X"), env["X"], helper(env, "X"), the channel
    table) and every ${X} that endpoints.yml and credentials.yml expand."""
    tree = ast.parse((ROOT / "bot" / "config.py").read_text(encoding="utf-8"))
    names: set[str] = set()

    def is_env(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == "env"

    def text(node: ast.AST) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and is_env(func.value) and node.args:
                names.add(text(node.args[0]) or "")
            for first, second in zip(node.args, node.args[1:]):
                if is_env(first) and text(second):
                    names.add(text(second))
        elif isinstance(node, ast.Subscript) and is_env(node.value) and text(node.slice):
            names.add(text(node.slice))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id == "CHANNEL_VARIABLES" for t in node.targets):
            names |= {text(k) for k in node.value.keys if text(k)}
    for name in ("endpoints.yml", "credentials.yml"):
        yml = re.sub(r"(^|\s)#[^\n]*", "", (ROOT / name).read_text(encoding="utf-8"))  # not in comments
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", yml))
    names.discard("")
    return names


def documented(path: Path) -> set[str]:
    """Variables a .env-style file documents, set (`X=…`) or commented out (`# X=…`)."""
    return set(re.findall(r"^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)=", path.read_text(encoding="utf-8"), re.M))


def active_env(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The uncommented assignments of an environment file."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            env[match[1]] = match[2]
    return env


# --- Compose -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def app_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items()
            if str(svc.get("image", "")).split(":")[0] == APP_IMAGE}


def services_running(compose: dict, argv: list[str]) -> list[str]:
    return [name for name, svc in app_services(compose).items()
            if argv in niangjia_invocations(svc.get("command", []))]


def dependencies(svc: dict) -> dict[str, str]:
    """Service -> condition, network_mode `service:X` counted as a dependency on X."""
    depends = svc.get("depends_on", {})
    deps = ({name: "service_started" for name in depends} if isinstance(depends, list)
            else {name: spec.get("condition", "service_started") for name, spec in depends.items()})
    mode = str(svc.get("network_mode", ""))
    if mode.startswith("service:"):
        deps.setdefault(mode.split(":", 1)[1], "service_started")
    return deps


def service_env(compose: dict, name: str) -> dict[str, str]:
    """What a Compose service's process sees: the env file, then its `environment:`."""
    env = active_env()
    extra = compose["services"][name].get("environment", {})
    if isinstance(extra, list):
        extra = dict(item.split("=", 1) for item in extra)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def address(svc: dict) -> str | None:
    networks = svc.get("networks") or {}
    if isinstance(networks, dict):
        for spec in networks.values():
            if spec and spec.get("ipv4_address"):
                return spec["ipv4_address"]
    return None


# --- nginx configuration -------------------------------------------------------------------------------

def parse_nginx(text: str) -> list[tuple[str, list[str], list | None]]:
    """(directive, arguments, children or None) for an nginx configuration."""
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};]+", text)

    def block(i: int) -> tuple[list, int]:
        items, words = [], []
        while i < len(tokens):
            token = tokens[i]
            if token == ";":
                items.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                children, i = block(i + 1)
                items.append((words[0], words[1:], children))
                words = []
            elif token == "}":
                return items, i
            else:
                words.append(token)
            i += 1
        return items, i

    return block(0)[0]


def directives(items, name: str) -> list:
    return [item for item in items if item[0] == name]


def first_args(items, name: str) -> list[str] | None:
    found = directives(items, name)
    return found[0][1] if found else None


@pytest.fixture(scope="module")
def nginx_conf() -> list:
    return parse_nginx(NGINX_CONF.read_text(encoding="utf-8"))


def upstreams(conf) -> dict[str, list[tuple[str, ...]]]:
    """name -> [server arguments], plus the balancing directives under the key '<name>:balance'."""
    found = {}
    for _, args, children in directives(conf, "upstream"):
        found[args[0]] = [tuple(a) for _, a, _ in directives(children, "server")]
        found[args[0] + ":balance"] = [d for d, _, _ in children if d in ("hash", "ip_hash", "least_conn")]
    return found


def upstream_addresses(conf, name: str) -> set[str]:
    return {server[0] for server in upstreams(conf)[name]}


def servers(conf) -> list[list]:
    return [children for directive, _, children in conf if directive == "server"]


def listens(server) -> list[str]:
    return [args[0] for _, args, _ in directives(server, "listen")]


def locations(server) -> dict[str, list]:
    return {" ".join(args): children for _, args, children in directives(server, "location")}


def public_https_server(conf) -> list:
    (server,) = [s for s in servers(conf) if any(a[0] == "443" and "ssl" in a for _, a, _ in directives(s, "listen"))]
    return server


def server_proxying_to(conf, upstream: str) -> list:
    """The internal server whose `location /` passes to ``upstream``."""
    for server in servers(conf):
        root = locations(server).get("/")
        if root and first_args(root, "proxy_pass") == [f"http://{upstream}"] and "443" not in listens(server):
            return server
    pytest.fail(f"no internal nginx server passes / to {upstream}")


# --- the start order and commands -------------------------------------------------------------------------

def test_every_compose_service_command_is_a_command_of_the_cli(compose):
    apps = app_services(compose)
    assert apps, f"no service uses the {APP_IMAGE} image"
    for name, svc in apps.items():
        calls = niangjia_invocations(svc.get("command", []))
        assert calls, f"service {name} runs no `niangjia` command: {svc.get('command')!r}"
        for argv in calls:
            parse_cli(argv)
    assert len(services_running(compose, ["run", "rasa"])) >= 2, "two or more Rasa servers"
    assert len(services_running(compose, ["run", "actions"])) >= 2, "two or more action servers"
    assert services_running(compose, ["run", "web"]), "the web app"
    assert services_running(compose, ["migrate"]) == ["migrate"], "a one-shot `migrate` service"
    assert services_running(compose, ["purge"]), "the retention purge"


def test_compose_starts_migrate_before_any_other_niangjia_service(compose):
    services = compose["services"]
    graph = {name: set(dependencies(svc)) for name, svc in services.items()}
    for name, deps in graph.items():
        assert deps <= set(services), f"{name} depends on unknown services {deps - set(services)}"
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"depends_on has a cycle: {exc.args[1]}")

    migrate = services["migrate"]
    assert str(migrate.get("restart")) == "no", "migrate is a one-shot: restart: \"no\""
    assert not set(dependencies(migrate)) & set(app_services(compose)), "migrate depends on no app service"
    for name in app_services(compose):
        if name == "migrate":
            continue
        assert dependencies(services[name]).get("migrate") == "service_completed_successfully", \
            f"{name} must wait for migrate (condition: service_completed_successfully)"
        assert order.index("migrate") < order.index(name)
    for name in services_running(compose, ["run", "rasa"]):
        deps = dependencies(services[name])
        assert deps.get("model") == "service_completed_successfully", f"{name} waits for the model"
        assert deps.get("redis") == "service_healthy", f"{name} needs Redis (lock store, socket.io)"

    # Conditions Compose can satisfy: healthy needs a healthcheck, completed needs a one-shot.
    for name, svc in services.items():
        for target, condition in dependencies(svc).items():
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy: no healthcheck"
            if condition == "service_completed_successfully":
                assert str(services[target].get("restart")) == "no", f"{target} is awaited as a one-shot"


def test_compose_servers_have_healthchecks_on_their_own_ports(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "nginx"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    ports = {"rasa": "RASA_PORT", "actions": "ACTIONS_PORT", "web": "WEB_PORT"}
    for kind, variable in ports.items():
        for name in services_running(compose, ["run", kind]):
            check = services[name].get("healthcheck")
            assert check, f"{name} has no healthcheck"
            port = re.search(r"127\.0\.0\.1:(\d+)", " ".join(check["test"]))
            assert port, f"{name}: healthcheck calls no local port"
            assert port[1] == service_env(compose, name).get(variable), \
                f"{name}: healthcheck port {port[1]} is not its {variable}"


def test_compose_images_files_and_volumes(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                if name == "nginx" and "niangjia.conf" in source:
                    assert (DEPLOY / source).is_file(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
        if name in app_services(compose):
            build = svc["build"]
            assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
            assert svc.get("env_file") in ("niangjia.env", ["niangjia.env"]), f"{name}: env_file niangjia.env"
            assert not svc.get("ports"), f"{name} must not publish ports: nginx is the only way in"
    assert {"80:80", "443:443"} <= set(services["nginx"]["ports"])
    assert (ENV_EXAMPLE.parent / "niangjia.env.example").is_file()


def test_addresses_agree_between_compose_nginx_and_the_environment(compose, nginx_conf):
    services = compose["services"]
    env = active_env()
    subnet = ipaddress.ip_network(compose["networks"]["niangjia"]["ipam"]["config"][0]["subnet"])
    rasa = {f"{address(services[n])}:{service_env(compose, n)['RASA_PORT']}"
            for n in services_running(compose, ["run", "rasa"])}
    actions = {f"{address(services[n])}:{service_env(compose, n)['ACTIONS_PORT']}"
               for n in services_running(compose, ["run", "actions"])}
    for host_port in rasa | actions:
        assert ipaddress.ip_address(host_port.split(":")[0]) in subnet

    # nginx balances over exactly the Rasa and action servers Compose runs.
    assert upstream_addresses(nginx_conf, "niangjia_rasa") == rasa
    assert upstream_addresses(nginx_conf, "niangjia_rasa_sticky") == rasa
    assert upstream_addresses(nginx_conf, "niangjia_actions") == actions
    # A published model reaches every Rasa server.
    assert set(env["RASA_SERVERS"].split(",")) == {f"http://{a}" for a in rasa}
    # Rasa's action endpoint is nginx's action listener, on nginx's own address.
    endpoint = urlsplit(env["ACTION_ENDPOINT_URL"])
    actions_listener = server_proxying_to(nginx_conf, "niangjia_actions")
    assert f"{endpoint.hostname}:{endpoint.port}" in listens(actions_listener)
    assert endpoint.hostname == address(services["nginx"]) and endpoint.path == "/webhook"
    # Databases at their Compose addresses.
    assert urlsplit(env["DATABASE_URL"]).hostname == address(services["postgres"])
    assert urlsplit(env["REDIS_URL"]).hostname == address(services["redis"])

    # The web app shares nginx's network namespace: it reaches the Rasa API at 127.0.0.1:RASA_PORT
    # (nginx's internal listener) and nginx reaches it at 127.0.0.1:WEB_PORT.
    web = services_running(compose, ["run", "web"])[0]
    assert services[web]["network_mode"] == "service:nginx"
    settings = load_settings(service_env(compose, web))
    api = urlsplit(settings.rasa_url)
    assert f"{api.hostname}:{api.port}" in listens(server_proxying_to(nginx_conf, "niangjia_rasa"))
    assert upstream_addresses(nginx_conf, "niangjia_web") == {f"{settings.host}:{settings.web_port}"}


def test_rasa_servers_call_the_actions_through_nginx(compose):
    for name in services_running(compose, ["run", "rasa"]):
        env = service_env(compose, name)
        settings = load_settings(env)
        assert _rasa_env(settings)["ACTION_ENDPOINT_URL"] == env["ACTION_ENDPOINT_URL"]


# --- environment files ---------------------------------------------------------------------------------

def test_code_variables_are_found():
    names = code_variables()
    # The collector itself: a few of each kind, so an empty result cannot pass the tests below.
    assert {"DATABASE_URL", "RASA_PORT", "WECHAT_TOKEN", "ACTION_ENDPOINT_URL", "REDIS_URL"} <= names


def test_deploy_env_example_documents_every_variable_the_code_reads():
    missing = sorted(code_variables() - documented(ENV_EXAMPLE))
    assert not missing, f"deploy/niangjia.env.example does not document {missing}"


def test_dot_env_example_documents_every_variable_the_code_reads():
    missing = sorted(code_variables() - documented(ROOT / ".env.example"))
    assert not missing, f".env.example does not document {missing}"


def test_deploy_env_example_is_a_cluster_configuration(tmp_path):
    env = active_env()
    settings = load_settings({**env, "NIANGJIA_VAR_DIR": str(tmp_path)})
    assert settings.database_url.startswith("postgresql://")
    assert settings.tracker_url == settings.database_url, "Rasa's tracker store in the same database"
    assert settings.redis_url.startswith("redis://"), "REDIS_URL: lock store, socket.io, rate limits"
    assert len(settings.rasa_servers) >= 2
    assert settings.rasa_public_url.startswith("https://")
    assert settings.console_secure_cookies
    assert (settings.rate_limit_burst, settings.rate_limit_per_minute, settings.retention_days) == (20, 60, 365)
    assert env["TICKET_LOCK_LIFETIME"] == "20"
    assert settings.log_level == "INFO"
    # Shared secrets are set (else each machine generates its own under var/), as placeholders only.
    assert not list(tmp_path.iterdir()), "a secret was generated: RASA_TOKEN / CONSOLE_SECRET_KEY unset"
    for name, value in env.items():
        if re.search(r"TOKEN|SECRET|PASSWORD|_KEY$", name):
            assert value == "" or "CHANGE-ME" in value, f"{name} looks like a real secret"
    assert urlsplit(env["DATABASE_URL"]).password == env["POSTGRES_PASSWORD"]
    assert "CHANGE-ME" in urlsplit(env["DATABASE_URL"]).password


# --- the image ---------------------------------------------------------------------------------------------

def _ignored(path: str, patterns: list[str]) -> bool:
    """Roughly Docker's rule: a pattern excludes the path or a directory above it (last match wins)."""
    ignored = False
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatch(c, pattern) for c in candidates):
            ignored = not negate
    return ignored


def test_dockerfile_builds_from_the_lock_and_keeps_secrets_out(compose):
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.10-slim$", text, re.M)
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\} AS app$", text, re.M)
    assert "-r requirements.txt" in text
    assert re.search(r"pip install .*--no-deps -e \.", text)
    assert re.search(r"^ARG TRAIN_MODEL=", text, re.M) and "niangjia train" in text
    for copied in re.findall(r"^COPY (?!--from)([^\n]+) \S+$", text, re.M):
        for source in copied.split():
            assert source == "." or (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    arguments = set(re.findall(r"^ARG (\w+)", text, re.M))
    for name, svc in app_services(compose).items():
        assert set(svc["build"].get("args", {})) <= arguments, f"{name}: build args the Dockerfile lacks"
    # The `model` service copies the model from where the image keeps it.
    assert "/opt/niangjia/image-models/" in text
    assert "/opt/niangjia/image-models/" in " ".join(compose["services"]["model"]["command"])

    patterns = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    for secret in (".env", "deploy/niangjia.env", "deploy/tls/privkey.pem", "var/rasa_token", ".venv/bin/python"):
        assert _ignored(secret, patterns), f"{secret} would enter the image"
    # What the processes need at run time (publish evaluates on tests/nlu).
    for needed in ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml", "data/nlu",
                   "data/knowledge", "bot/cli.py", "actions/__init__.py", "tests/nlu/test_set.yml",
                   "package-lock.json", "requirements.txt", "pyproject.toml"):
        assert (ROOT / needed).exists(), needed
        assert not _ignored(needed, patterns), f"{needed} is left out of the image"


# --- systemd ---------------------------------------------------------------------------------------------

UNITS = ("niangjia-rasa@.service", "niangjia-actions@.service", "niangjia-web.service",
         "niangjia-migrate.service", "niangjia-purge.service", "niangjia-purge.timer", "niangjia.target")
LONG_RUNNING = {"niangjia-rasa@.service": ["run", "rasa"], "niangjia-actions@.service": ["run", "actions"],
                "niangjia-web.service": ["run", "web"]}
ONESHOT = {"niangjia-migrate.service": ["migrate"], "niangjia-purge.service": ["purge"]}


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text(encoding="utf-8"), source=name)
    return parser


def all_values(name: str, key: str) -> list[str]:
    """A key that may repeat (configparser keeps only the last)."""
    values = []
    for line in (SYSTEMD / name).read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}="):
            values += line.split("=", 1)[1].split()
    return values


def test_systemd_units_parse_and_are_hardened():
    for name in UNITS:
        assert (SYSTEMD / name).is_file(), f"missing deploy/systemd/{name}"
        unit = read_unit(name)
        assert unit.has_section("Unit") and unit["Unit"].get("Description"), name
    for name in (*LONG_RUNNING, *ONESHOT):
        service = read_unit(name)["Service"]
        assert service.get("User") == "niangjia", name
        assert service.get("WorkingDirectory") == "/opt/niangjia", name
        assert service.get("EnvironmentFile") == "/etc/niangjia/niangjia.env", name
        assert service.get("NoNewPrivileges") in ("true", "yes"), name
        assert service.get("PrivateTmp") in ("true", "yes"), name
        assert service.get("ProtectSystem") == "strict", name
        writable = set(all_values(name, "ReadWritePaths"))
        # var/ and models/ (publish), data/generated/ (written by every `niangjia run rasa`).
        assert {"/opt/niangjia/var", "/opt/niangjia/models", "/opt/niangjia/data/generated"} <= writable, name
    for name in LONG_RUNNING:
        unit = read_unit(name)
        assert unit["Service"].get("Type", "simple") == "simple", name
        assert unit["Service"].get("Restart") == "on-failure", name
        assert unit["Unit"].get("PartOf") == "niangjia.target", name
        assert unit["Install"].get("WantedBy") == "niangjia.target", name
    for name in ONESHOT:
        assert read_unit(name)["Service"].get("Type") == "oneshot", name
    web = read_unit("niangjia-web.service")["Unit"]
    assert "niangjia-migrate.service" in web.get("Requires", "").split(), "web runs migrate first"
    assert "niangjia-migrate.service" in web.get("After", "").split(), "web starts after migrate"
    timer = read_unit("niangjia-purge.timer")
    assert timer["Timer"].get("OnCalendar"), "a daily OnCalendar"
    assert timer["Timer"].get("Persistent") == "true"
    assert (SYSTEMD / timer["Timer"].get("Unit", "niangjia-purge.service")).is_file()
    assert timer["Install"].get("WantedBy") == "timers.target"
    assert read_unit("niangjia.target")["Install"].get("WantedBy") == "multi-user.target"


def test_systemd_units_run_commands_of_the_cli():
    for name, expected in {**LONG_RUNNING, **ONESHOT}.items():
        exec_start = read_unit(name)["Service"]["ExecStart"]
        calls = niangjia_invocations(exec_start.replace("%i", "5005"))
        assert calls == [expected], f"{name}: ExecStart runs {calls}, expected niangjia {expected}"
        parse_cli(expected)
        binary = next(w for w in shlex.split(exec_start) if w.endswith("/niangjia"))
        assert binary == "/opt/niangjia/.venv/bin/niangjia", f"{name}: {binary}"
    # The instance name is the port (env(1): EnvironmentFile= would override Environment=).
    assert "RASA_PORT=%i" in read_unit("niangjia-rasa@.service")["Service"]["ExecStart"]
    assert "ACTIONS_PORT=%i" in read_unit("niangjia-actions@.service")["Service"]["ExecStart"]


def test_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    # verify checks that ExecStart's program exists: point it at a stand-in executable.
    fake = tmp_path / "bin" / "niangjia"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (SYSTEMD / name).read_text(encoding="utf-8")
        (units / name).write_text(text.replace("/opt/niangjia/.venv/bin/niangjia", str(fake)), encoding="utf-8")
    paths = [str(units / name.replace("@.", "@5005.")) for name in UNITS]
    result = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    output = (result.stdout + result.stderr).strip()
    ours = [line for line in output.splitlines() if "niangjia" in line]
    if result.returncode != 0 and not ours:
        pytest.skip(f"systemd-analyze cannot verify on this machine: {output[:300]}")
    # Unknown keys and unparsable values are only warnings (exit 0): fail on any line about our units.
    assert result.returncode == 0 and not ours, output


# --- nginx -----------------------------------------------------------------------------------------------

def test_nginx_config_routes_retries_and_logs_as_intended(nginx_conf):
    text = NGINX_CONF.read_text(encoding="utf-8")
    code = re.sub(r"#[^\n]*", "", text)
    assert "non_idempotent" not in code, "never retry a POST already sent to a Rasa server"
    for fmt in directives(nginx_conf, "log_format"):
        line = " ".join(fmt[1])
        assert "$uri" in line and not re.search(r"\$(request_uri|args|query_string|arg_|http_referer)", line), \
            "access logs must not carry query strings"
    formats = {fmt[1][0] for fmt in directives(nginx_conf, "log_format")}
    for server in servers(nginx_conf):
        for _, args, _ in directives(server, "access_log"):
            assert args[-1] in formats, f"access_log {args} does not use the query-free format"

    balance = upstreams(nginx_conf)
    assert not balance["niangjia_rasa:balance"], "webhooks: round robin"
    assert balance["niangjia_rasa_sticky:balance"] in (["hash"], ["ip_hash"]), "socket.io: sticky"
    assert first_args(next(children for d, a, children in nginx_conf if d == "upstream" and a == ["niangjia_rasa_sticky"]),
                      "hash") in (None, ["$remote_addr"], ["$binary_remote_addr"], ["$remote_addr", "consistent"],
                                  ["$binary_remote_addr", "consistent"])

    https = public_https_server(nginx_conf)
    places = locations(https)
    webhooks = places["/webhooks/"]
    assert first_args(webhooks, "proxy_pass") == ["http://niangjia_rasa"]
    assert first_args(webhooks, "client_max_body_size") == ["64k"]
    assert first_args(webhooks, "proxy_next_upstream") == ["error", "timeout", "http_502", "http_503"]
    assert [d for d in https if d[0] == "limit_req"] or first_args(webhooks, "limit_req"), "per-IP limit"
    socketio = places["/socket.io/"]
    assert first_args(socketio, "proxy_pass") == ["http://niangjia_rasa_sticky"]
    headers = {args[0].lower(): args[1] for _, args, _ in directives(socketio, "proxy_set_header")}
    assert headers.get("upgrade") == "$http_upgrade" and "connection" in headers
    for path in ("= /", "/static/", "= /healthz", "/console/", "/vendor/"):
        assert first_args(places[path], "proxy_pass") == ["http://niangjia_web"], path
    assert first_args(places["/"], "return") == ["404"], "nothing else is public (Rasa's HTTP API)"
    assert any(d == "ssl_certificate" for d, _, _ in https)
    # Port 80 answers nothing but a redirect (and certificate renewal files).
    (plain,) = [s for s in servers(nginx_conf) if "80" in listens(s)]
    assert not [d for d in plain if d[0] == "proxy_pass"]
    for path, children in locations(plain).items():
        assert first_args(children, "return") == ["301", "https://$host$request_uri"] or \
            "acme-challenge" in path and first_args(children, "root"), path


def _nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.skip("nginx is not installed (Debian: apt-get install -y --no-install-recommends nginx)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _self_signed(directory: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


WEB_APP_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


class Backend:
    """A stand-in upstream (Rasa, action server or web app) that records what reaches it."""

    def __init__(self, name: str) -> None:
        self.name, self.hits, self.fail_rest = name, [], False
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                backend.hits.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                status = 502 if backend.fail_rest and self.path.startswith("/webhooks/rest/") else 200
                body = backend.name.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in WEB_APP_HEADERS.items():  # as the web app sends them on every response
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunningNginx:
    """deploy/nginx/niangjia.conf with local stand-ins: listen addresses become free loopback
    ports, upstream servers become Backends, certificate and log paths point into ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        conf = parse_nginx(NGINX_CONF.read_text(encoding="utf-8"))
        self.upstreams = {name: [s[0] for s in found] for name, found in upstreams(conf).items()
                          if not name.endswith(":balance")}
        self.backends = {addr: Backend(addr) for addrs in self.upstreams.values() for addr in addrs}
        self.ports: dict[str, int] = {}
        text = NGINX_CONF.read_text(encoding="utf-8")

        def listen(match: re.Match) -> str:
            port = self.ports.setdefault(match[2], _free_port())
            return f"{match[1]}127.0.0.1:{port}{match[3]}"

        text = re.sub(r"^(\s*listen\s+)(\S+?)((?:\s[^;]*)?;)", listen, text, flags=re.M)
        text = re.sub(r"^(\s*server\s+)(\d+\.\d+\.\d+\.\d+:\d+)",
                      lambda m: f"{m[1]}127.0.0.1:{self.backends[m[2]].port}", text, flags=re.M)
        (root / "logs").mkdir()
        (root / "acme" / ".well-known" / "acme-challenge").mkdir(parents=True)
        (root / "acme" / ".well-known" / "acme-challenge" / "token").write_text("acme-ok")
        _self_signed(root / "tls")
        text = (text.replace("/etc/nginx/tls/", f"{root}/tls/").replace("/var/log/nginx/", f"{root}/logs/")
                .replace("/var/www/letsencrypt", f"{root}/acme"))
        (root / "site.conf").write_text(text, encoding="utf-8")
        user = ""
        if os.geteuid() == 0:  # workers would otherwise run as nobody, locked out of the temp dirs
            user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};"
        temp = "\n".join(f"  {kind}_temp_path {root}/tmp-{kind};" for kind in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        mime = "  include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
        (root / "nginx.conf").write_text(
            f"{user}\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/logs/main.log warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n{mime}\n{temp}\n  include {root}/site.conf;\n}}\n",
            encoding="utf-8")
        self.argv = [_nginx(), "-p", str(root), "-e", str(root / "logs" / "startup.log"), "-c", str(root / "nginx.conf")]
        self.proc: subprocess.Popen | None = None

    def test_config(self) -> subprocess.CompletedProcess:
        return subprocess.run([*self.argv, "-t"], capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        self.proc = subprocess.Popen([*self.argv, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        for port in self.ports.values():
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start: {self.proc.stderr.read().decode()[:500]}")
                    time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for backend in self.backends.values():
            backend.close()

    # -- addresses -------------------------------------------------------------------------------
    def port_of(self, listen_prefix: str) -> int:
        return next(port for spec, port in self.ports.items() if spec == listen_prefix)

    def internal_port(self, upstream: str, loopback: bool = False) -> int:
        conf = parse_nginx(NGINX_CONF.read_text(encoding="utf-8"))
        specs = listens(server_proxying_to(conf, upstream))
        spec = next(s for s in specs if s.startswith("127.") == loopback)
        return self.ports[spec]

    def group(self, upstream: str) -> list[Backend]:
        return [self.backends[a] for a in self.upstreams[upstream]]

    def request(self, method: str, path: str, *, port: int | None = None, tls: bool = True,
                body: bytes | None = None, headers: dict | None = None):
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection("127.0.0.1", port or self.port_of("443"), context=context, timeout=10)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port or self.port_of("80"), timeout=10)
        try:
            conn.request(method, path, body=body, headers={"Host": SERVER_NAME, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    _nginx()
    running = RunningNginx(tmp_path_factory.mktemp("nginx"))
    checked = running.test_config()
    if checked.returncode != 0:
        running.stop()
        pytest.fail(f"nginx -t rejects deploy/nginx/niangjia.conf:\n{checked.stderr}")
    running.start()
    yield running
    running.stop()


def test_nginx_accepts_the_config(tmp_path):
    _nginx()
    running = RunningNginx(tmp_path)
    try:
        result = running.test_config()
    finally:
        running.stop()
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_port_80_only_redirects_to_https(nginx):
    status, headers, _ = nginx.request("POST", "/webhooks/wechat/webhook?signature=x", tls=False, body=b"<xml/>")
    assert status == 301 and headers["Location"] == f"https://{SERVER_NAME}/webhooks/wechat/webhook?signature=x"
    status, _, body = nginx.request("GET", "/.well-known/acme-challenge/token", tls=False)
    assert (status, body) == (200, b"acme-ok")
    assert not any(b.hits for b in nginx.backends.values()), "port 80 proxied a request"


def test_nginx_serves_the_web_app_and_channels_but_not_the_rasa_api(nginx):
    web = nginx.group("niangjia_web")[0]
    for path in ("/", "/static/chat.js", "/vendor/socket.io.min.js", "/healthz", "/console/", "/console/login"):
        status, _, body = nginx.request("GET", path)
        assert (status, body) == (200, web.name.encode()), path
    rasa = nginx.group("niangjia_rasa")
    before = sum(len(b.hits) for b in rasa) + len(web.hits)
    for path in ("/conversations/abc/tracker", "/conversations/abc/messages", "/model", "/status",
                 "/version", "/domain", "/webhooksx"):
        for method in ("GET", "POST", "PUT"):
            status, _, _ = nginx.request(method, path, body=b"{}" if method != "GET" else None)
            assert status == 404, f"{method} {path} is public"
    assert sum(len(b.hits) for b in rasa) + len(web.hits) == before, "Rasa's HTTP API reached"
    status, _, body = nginx.request("POST", "/webhooks/wechat/webhook", body=b"<xml/>")
    assert status == 200 and body.decode() in {b.name for b in rasa}


def test_nginx_fails_over_but_never_repeats_a_post_already_sent(nginx):
    first, second = nginx.group("niangjia_rasa")
    first.fail_rest = True  # answers 502 on /webhooks/rest/
    try:
        hits = len(first.hits) + len(second.hits)
        statuses = sorted(nginx.request("POST", "/webhooks/rest/webhook", body=b'{"sender":"a","message":"hi"}')[0]
                          for _ in range(2))
        # Round robin: one POST went to each; the 502 was NOT passed on to the other server.
        assert statuses == [200, 502]
        assert len(first.hits) + len(second.hits) == hits + 2
        # A GET that met the 502 is retried on the other server.
        for _ in range(2):
            assert nginx.request("GET", "/webhooks/rest/")[0] == 200
    finally:
        first.fail_rest = False
    status, _, _ = nginx.request("POST", "/webhooks/rest/webhook", body=b"x" * (65 * 1024))
    assert status == 413, "webhook bodies are limited to 64k"


def test_nginx_socketio_is_sticky_and_upgrades(nginx):
    group = nginx.group("niangjia_rasa_sticky")
    before = [len(b.hits) for b in group]
    for _ in range(4):
        nginx.request("GET", "/socket.io/?EIO=4&transport=websocket",
                      headers={"Upgrade": "websocket", "Connection": "Upgrade",
                               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    gained = [len(b.hits) - n for b, n in zip(group, before)]
    assert sorted(gained) == [0] * (len(group) - 1) + [4], f"one client reached several servers: {gained}"
    backend = group[gained.index(4)]
    _, _, headers = backend.hits[-1]
    assert headers.get("upgrade") == "websocket" and headers.get("connection", "").lower() == "upgrade"
    assert headers.get("x-forwarded-proto") == "https"


def test_nginx_sends_security_headers(nginx):
    for path, expected in (("/healthz", 200), ("/model", 404)):
        status, headers, _ = nginx.request("GET", path)
        assert status == expected
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        # Once each, though the upstream sends them too ("nosniff, nosniff" is not nosniff to every browser).
        assert headers.get_all("X-Content-Type-Options") == ["nosniff"]
        assert headers.get_all("X-Frame-Options") == ["DENY"]
        assert headers.get_all("Referrer-Policy") == ["same-origin"]
        assert "nginx/" not in headers.get("Server", "")


def test_nginx_access_log_has_no_query_strings(nginx):
    nginx.request("POST", "/webhooks/wechat/webhook?openid=oSECRETopenid&signature=s1", body=b"<xml/>")
    nginx.request("GET", "/console/complaints?employer=SECRETemployer")
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (nginx.root / "logs").glob("niangjia*.log"))
    assert "/webhooks/wechat/webhook" in logs and "/console/complaints" in logs
    assert "oSECRETopenid" not in logs and "SECRETemployer" not in logs


def test_nginx_internal_listeners_reach_the_rasa_api_and_the_action_servers(nginx):
    rasa = nginx.group("niangjia_rasa")
    before = sum(len(b.hits) for b in rasa)
    # The web app's RASA_PORT: the loopback listener, over all Rasa servers.
    port = nginx.internal_port("niangjia_rasa", loopback=True)
    assert nginx.request("GET", "/status", port=port, tls=False)[0] == 200
    assert nginx.request("GET", "/status", port=nginx.internal_port("niangjia_rasa"), tls=False)[0] == 200
    assert sum(len(b.hits) for b in rasa) == before + 2
    actions = nginx.group("niangjia_actions")
    port = nginx.internal_port("niangjia_actions")
    for _ in range(2):
        status, _, body = nginx.request("POST", "/webhook", port=port, tls=False, body=b"{" + b" " * 100_000 + b"}")
        assert status == 200, "action calls carry the whole tracker: large bodies pass"
    assert all(b.hits for b in actions), "round robin over the action servers"


# --- Docker Compose --------------------------------------------------------------------------------------

def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_docker_compose_accepts_the_file(tmp_path):
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copy(ENV_EXAMPLE, deploy / "niangjia.env")
    text = COMPOSE.read_text(encoding="utf-8")
    if shutil.which("docker") and _works(["docker", "compose", "version"]):
        argv = ["docker", "compose"]
    elif shutil.which("docker-compose") and _works(["docker-compose", "version"]):
        # Compose v1 (Debian's docker-compose) knows no top-level `name:`; the rest is checked as is.
        argv = ["docker-compose"]
        text = re.sub(r"^name: .*$", 'version: "2.4"', text, flags=re.M)
    else:
        pytest.skip("neither the docker compose plugin nor docker-compose works here (`docker compose version`)")
    (deploy / "docker-compose.yml").write_text(text, encoding="utf-8")
    result = subprocess.run([*argv, "-f", str(deploy / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, timeout=60, cwd=deploy)
    assert result.returncode == 0, result.stderr
