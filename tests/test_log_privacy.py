"""Phone and ID-card numbers never appear in the logs (above debug level)."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import requests

from bot import logmask
from tests.conftest import Stack

PHONE, ID_NUMBER = "13700001111", "11010519900307123X"


def test_mask_hides_phones_and_id_numbers_and_leaves_other_numbers():
    assert logmask.mask(f"电话{PHONE}，身份证{ID_NUMBER}") == "电话137****1111，身份证110105**********3X"
    assert logmask.mask("138-1234-5678") == "138****5678"
    for kept in ("NJ-20261124-7KQ2M", "工资8000元", "1764049512.123456", "12351", "13812345678901"):
        assert logmask.mask(kept) == kept


def test_installed_masking_applies_to_every_record_above_debug(caplog):
    logmask.install()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("any.library").warning("worker %s said %s", "w1", f"call me {PHONE}")
        logging.getLogger("any.library").debug("debug keeps %s", PHONE)
    warning, debug = caplog.records
    assert PHONE not in warning.getMessage() and "137****1111" in warning.getMessage()
    assert PHONE in debug.getMessage()


def test_python_warnings_are_masked_and_rasas_echo_of_a_typed_command_is_dropped():
    """Warnings bypass logging unless captured; Rasa warns with the whole text of a worker's
    message that starts with "/". Run in a fresh interpreter: pytest records warnings itself."""
    script = textwrap.dedent(f"""
        import logging, warnings
        from bot import logmask
        logmask.install()
        logging.basicConfig(level=logging.INFO)
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
        from rasa.shared.nlu.training_data.message import Message
        warnings.warn("a library warns about {PHONE}")
        YAMLStoryReader.unpack_regex_message(Message(data={{"text": "/我叫王小明，电话{PHONE}"}}),
                                             domain=Domain.from_yaml("version: '3.1'\\nintents: [greet]\\n"))
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "a library warns about 137****1111" in done.stderr
    assert PHONE not in done.stderr and "王小明" not in done.stderr


def test_a_full_run_of_conversations_leaves_no_phone_or_id_number_in_any_log(stack: Stack):
    sender = uuid.uuid4().hex
    for text in ("我要投诉", "宏达电子厂", "苏州", "/wage_arrears", f"拖欠工资，我身份证{ID_NUMBER}", "上个月", "1", PHONE,
                 "同意", "确认提交", f"/我的电话是{PHONE}，身份证{ID_NUMBER}", f"我的电话是{PHONE}，转人工"):
        stack.say(sender, text)
    stack.say(uuid.uuid4().hex, f"{ID_NUMBER} {PHONE} 这是我的身份证和电话，工伤怎么认定")
    stack.say(uuid.uuid4().hex, "删除我的数据")
    if "web" in stack.procs:  # a console search by phone: the access log keeps the path only
        requests.get(f"{stack.web_url}/console/complaints", params={"employer": PHONE}, timeout=30)
        time.sleep(0.5)
        assert "GET /console/complaints" in (stack.logs / "web.log").read_text(encoding="utf-8")
    leaks = []
    for log in sorted(stack.logs.glob("*.log")):
        content = log.read_text(encoding="utf-8", errors="replace")
        leaks += [f"{log.name}: {needle}" for needle in (PHONE, ID_NUMBER) if needle in content]
    assert leaks == []
