"""Passwords: staff change their own (other sessions end), and common passwords are refused
wherever a password is set — console, CLI, service."""
from __future__ import annotations

import io

import pytest

from bot.cli import main as cli_main
from bot.console.deps import services
from bot.storage.accounts import AccountService, is_common_password
from bot.storage.errors import InvalidInput
from tests.console.conftest import PASSWORD, login, post

NEW = "紫藤花开在四月的工会小院"
# Ten characters or more (long enough), and among the first passwords any attacker tries.
COMMON = ["woaini1314", "qwertyuiop", "1234567890", "a123456789", "QWERTYUIOP", "1qaz2wsx3edc"]


def _change(client, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    return post(client, "/console/password", current=current, password=new, again=new if again is None else again)


def test_staff_change_their_own_password_and_every_other_session_ends(app, clients):
    other_computer = app.test_client()
    assert login(other_computer, "staff").status_code == 302
    client = clients["staff"]
    assert "当前密码" in client.get("/console/password").get_data(as_text=True)
    response = _change(client, PASSWORD, NEW)
    assert response.status_code == 302
    assert "其他电脑或手机上登录的这个账号都已退出" in client.get(response.location).get_data(as_text=True)
    assert client.get("/console/queue").status_code == 200  # this session goes on
    assert other_computer.get("/console/queue").status_code == 302  # that one is over
    assert login(app.test_client(), "staff").status_code == 400
    assert login(app.test_client(), "staff", NEW).status_code == 302


@pytest.mark.parametrize("current, new, again, says", [
    ("wrong password!", NEW, NEW, "当前密码不正确"),
    (PASSWORD, NEW, NEW + "x", "两次输入的新密码不一致"),
    (PASSWORD, "short", "short", "密码需要 10 到 256 位"),
    (PASSWORD, "woaini1314", "woaini1314", "这个密码太常见"),
])
def test_a_refused_password_change_changes_nothing(app, clients, current, new, again, says):
    other_computer = app.test_client()
    login(other_computer, "staff")
    response = _change(clients["staff"], current, new, again)
    assert response.status_code == 400 and says in response.get_data(as_text=True)
    assert other_computer.get("/console/queue").status_code == 200
    assert login(app.test_client(), "staff").status_code == 302


def test_guessing_the_current_password_on_the_change_page_is_slowed_down_too(app, clients):
    with app.app_context():
        before = services().accounts.get("staff").password_hash
    client = clients["staff"]
    for _ in range(4):
        _change(client, "wrong password!", NEW)
    response = _change(client, PASSWORD, NEW)
    assert response.status_code == 429 and "后再试" in response.get_data(as_text=True)
    with app.app_context():
        assert services().accounts.get("staff").password_hash == before


def test_the_bundled_list_holds_the_usual_suspects():
    assert all(is_common_password(p) for p in COMMON)
    assert not is_common_password(NEW)


@pytest.mark.parametrize("common", COMMON)
def test_the_console_refuses_common_passwords_for_new_and_reset_accounts(app, clients, common):
    admin = clients["admin"]
    response = post(admin, "/console/accounts", username="newbie", display_name="新同事", role="staff",
                    unit="", password=common)
    assert response.status_code == 400 and "这个密码太常见" in response.get_data(as_text=True)
    response = post(admin, "/console/accounts/staff", display_name="李干事", role="staff", unit="朝阳区工会",
                    active="y", password=common)
    assert response.status_code == 400 and "这个密码太常见" in response.get_data(as_text=True)
    with app.app_context():
        assert "newbie" not in {u.username for u in services().accounts.listing()}
    assert login(app.test_client(), "staff", common).status_code == 400
    assert login(app.test_client(), "staff").status_code == 302


def test_the_service_refuses_common_passwords_whoever_calls_it(app):
    with app.app_context():
        accounts: AccountService = services().accounts
        with pytest.raises(InvalidInput):
            accounts.add("newbie", "新同事", password="woaini1314")
        with pytest.raises(InvalidInput):
            accounts.set_password("staff", "Qwertyuiop", actor="admin")
        with pytest.raises(InvalidInput):
            accounts.change_password("staff", PASSWORD, "1234567890")


@pytest.mark.parametrize("argv", [["create-admin", "boss", "--name", "老板"],
                                  ["staff-add", "newbie", "--name", "新同事"],
                                  ["staff-password", "staff"]])
def test_the_cli_refuses_common_passwords(app, tmp_path, monkeypatch, capsys, argv):
    monkeypatch.setenv("DATABASE_URL", app.config["NIANGJIA_SETTINGS"].database_url)
    monkeypatch.setenv("NIANGJIA_VAR_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a123456789\n"))
    assert cli_main([*argv, "--password-stdin"]) == 2
    assert "common" in capsys.readouterr().err
    with app.app_context():
        assert {u.username for u in services().accounts.listing()} == {"staff", "supervisor", "admin", "haidian"}
    assert login(app.test_client(), "staff").status_code == 302
