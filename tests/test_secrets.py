"""Secrets and listening addresses, tried as an attacker on the same machine or network would."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config import load_settings, weak_secrets
from tests.conftest import ROOT, Stack


def _listening(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from the kernel's socket tables)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.slow
def test_the_action_server_listens_on_loopback_only(servers: Stack):
    port = int(servers.actions_url.rsplit(":", 1)[1])
    addresses = _listening(port)
    # 0100007F: 127.0.0.1; 00000000 (0.0.0.0) or the :: wildcard would take any address of the machine.
    assert addresses == {"0100007F"}, addresses


@pytest.mark.slow
def test_the_rasa_api_token_is_not_on_any_command_line(servers: Stack):
    for proc in servers.procs.values():
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode("utf-8", "replace")
        assert servers.token not in cmdline
    assert "--enable-api" in Path(f"/proc/{servers.procs['rasa'].pid}/cmdline").read_bytes().decode()


@pytest.mark.parametrize("variable, value", [
    ("CONSOLE_SECRET_KEY", "CHANGE-ME-console-session-key-with-a-long-tail"),
    ("RASA_TOKEN", "short-token"),
    ("REST_TOKEN", "change-me" * 5),
    ("WECHAT_TOKEN", "wechat-token"),
])
def test_a_server_refuses_to_start_with_a_placeholder_or_short_secret(tmp_path, variable, value):
    env = {**os.environ, "NIANGJIA_VAR_DIR": str(tmp_path / "var"), variable: value}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run", "web"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert variable in result.stderr and "refusing to start" in result.stderr
    assert value not in result.stderr  # the secret itself is never printed


def test_generated_and_long_secrets_are_accepted():
    assert weak_secrets({"RASA_TOKEN": "a" * 32, "WECHAT_TOKEN": "", "REST_TOKEN": "b" * 64}) == []


def test_processes_starting_together_share_one_private_secret(tmp_path):
    var = tmp_path / "var"
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda _: load_settings({"NIANGJIA_VAR_DIR": str(var)}).rest_token, range(16)))
    assert len(set(tokens)) == 1 and len(tokens[0]) >= 32 and not tokens[0].startswith("-")
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    for name in ("rasa_token", "rest_token", "sender_key", "console_secret"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600, name
    assert sorted(p.name for p in var.iterdir() if not p.name.startswith(".")) == [
        "console_secret", "rasa_token", "rest_token", "sender_key"]
