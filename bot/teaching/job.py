"""A publish job run in its own process, its progress kept in ``publish_jobs`` for the console.

The console starts ``niangjia publish-job <id>`` detached, so training (minutes, gigabytes
of TensorFlow) never runs inside a web worker and survives the request that started it.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.storage.db import Database
from bot.storage.teaching import ApprovalPending, TeachingService
from bot.teaching import texts
from bot.teaching.publish import publish
from bot.teaching.staff_data import ExampleSpec, FaqSpec

logger = logging.getLogger(__name__)


def launch(settings: Settings, job_id: int) -> None:
    """Start the job's process and return at once (it outlives the web request)."""
    log_dir = settings.var_dir / "publish"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"job-{job_id}.log").open("ab") as log:
        subprocess.Popen([str(Path(sys.executable).parent / "niangjia"), "publish-job", str(job_id)],
                         cwd=settings.project_root, env=dict(os.environ), stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    logger.info("publish job %s launched", job_id)


def run_job(settings: Settings, job_id: int) -> str:
    """Train, evaluate and (unless accuracy drops) put live what staff have taught; returns the stage."""
    db = Database(settings.database_url)
    teaching = TeachingService(db)
    try:
        faqs, examples = teaching.publishable()
        specs = [FaqSpec(slug=slug, questions=list(v.questions), answer=v.answer, basis=v.basis)
                 for _, _, v, slug in faqs]
        example_specs = [ExampleSpec(text=e.text, intent=e.intent) for e in examples]
        outcome = publish(settings, specs, example_specs,
                          progress=lambda stage, pct, msg: teaching.report(job_id, stage, pct, msg),
                          rasa_urls=list(settings.rasa_servers), max_drop=settings.publish_max_drop)
        teaching.finish_job(job_id, outcome.stage, outcome.message,
                            outcome.model.name if outcome.model else None,
                            outcome.new.accuracy if outcome.new else None,
                            outcome.live.accuracy if outcome.live else None,
                            published={faq_id: number for faq_id, number, _, _ in faqs})
        logger.info("publish job %s ended %s (%s)", job_id, outcome.stage, outcome.seconds)
        return outcome.stage
    except ApprovalPending as waiting:  # an FAQ was changed after the publish was started
        teaching.finish_job(job_id, "failed", str(texts()["progress"]["unapproved"]).format(
            titles="、".join(waiting.titles)), None, None, None)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - the job row must never stay "running"
        logger.exception("publish job %s crashed", job_id)
        teaching.finish_job(job_id, "failed", f"{type(exc).__name__}", None, None, None)
        return "failed"
    finally:
        db.dispose()
