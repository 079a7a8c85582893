"""`niangjia purge --every HOURS` (the retention process of `make run`): purges on schedule and
survives a failed pass."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot import privacy_cli
from bot.config import load_settings
from bot.storage.migrate import upgrade


class Stop(Exception):
    pass


def test_purge_every_runs_again_after_a_failed_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = load_settings({"NIANGJIA_VAR_DIR": str(tmp_path), "RETENTION_DAYS": "30"})
    upgrade(settings.database_url)
    passes: list[str] = []
    real = privacy_cli._run_once

    def flaky(args: argparse.Namespace, settings_: object, out: object) -> int:
        passes.append("pass")
        if len(passes) == 1:
            raise OSError("database is down")
        return real(args, settings_, out)

    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise Stop

    monkeypatch.setattr(privacy_cli, "_run_once", flaky)
    printed: list[str] = []
    args = argparse.Namespace(command="purge", days=None, every=24.0)
    with pytest.raises(Stop):
        privacy_cli.run(args, settings, out=printed.append, sleep=sleep)
    assert passes == ["pass"] * 3 and slept == [86400.0] * 3
    assert printed and all("older than 30 days: 0 conversations" in line for line in printed)
