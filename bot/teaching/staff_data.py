"""Staff-made FAQs and examples as Rasa training data under ``data/staff/``.

``faq.yml`` holds the retrieval intent ``faq/<slug>`` (question variants), its response
``utter_faq/<slug>`` and the rule ``faq -> utter_faq``. Rasa's ``ResponsesSyncImporter``
adds the retrieval intent ``faq`` and the action ``utter_faq`` to the domain from these
training data, so ``domain.yml`` does not list them. ``examples.yml`` adds examples to
intents the domain already has. Files whose content would be empty are removed, so an
installation without staff data trains exactly as before.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.storage.errors import NiangjiaError
from bot.teaching import texts

STAFF_DIR = "staff"
FAQ_FILE = "faq.yml"
EXAMPLES_FILE = "examples.yml"
FAQ_INTENT = "faq"
HEADER = "# Written by the staff console (bot.teaching.staff_data). Do not edit by hand.\n"
_NAME = re.compile(r"[a-z0-9_]+")
# Rasa reads "[text](entity)" in an example as an entity annotation: keep brackets literal.
_BRACKETS = str.maketrans({"[": "［", "]": "］"})


class StaffDataError(NiangjiaError, ValueError):
    """Staff data that cannot become training data (bad slug, empty answer, clash)."""


@dataclass(frozen=True)
class FaqSpec:
    """One staff-made question and answer: ``slug`` names ``faq/<slug>``."""

    slug: str
    questions: list[str]
    answer: str
    basis: str


@dataclass(frozen=True)
class ExampleSpec:
    """A staff-made example for a topic intent (``wage_arrears``) or ``faq/<slug>``."""

    text: str
    intent: str


def clean_text(text: str) -> str:
    """One line, single spaces, brackets Rasa would misread made literal."""
    return " ".join(str(text).split()).translate(_BRACKETS)


def clean_faq(faq: FaqSpec) -> FaqSpec:
    """``faq`` with stripped, de-duplicated, sorted questions; raises StaffDataError if unusable."""
    if not _NAME.fullmatch(faq.slug or ""):
        raise StaffDataError(f"FAQ slug {faq.slug!r} must match [a-z0-9_]+")
    questions = sorted({q for q in (clean_text(q) for q in faq.questions) if q})
    if not questions:
        raise StaffDataError(f"FAQ {faq.slug!r} has no question")
    answer = "\n".join(line.strip() for line in str(faq.answer).strip().splitlines())
    if not answer:
        raise StaffDataError(f"FAQ {faq.slug!r} has an empty answer")
    return FaqSpec(faq.slug, questions, answer, clean_text(faq.basis or ""))


def clean_staff_data(
    faqs: Iterable[FaqSpec], examples: Iterable[ExampleSpec], known_intents: set[str] | None = None
) -> tuple[list[FaqSpec], dict[str, list[str]]]:
    """Validated FAQs (sorted by slug, ``faq/<slug>`` examples folded into their questions)
    and the other examples by intent. Raises StaffDataError naming the first problem."""
    cleaned = {faq.slug: faq for faq in (clean_faq(f) for f in faqs)}
    extra: dict[str, set[str]] = {}
    for example in examples:
        intent = _checked_intent(example.intent, set(cleaned), known_intents)
        text = clean_text(example.text)
        if text:
            extra.setdefault(intent, set()).add(text)
    result = []
    for slug in sorted(cleaned):
        faq = cleaned[slug]
        more = extra.pop(f"{FAQ_INTENT}/{slug}", set())
        result.append(FaqSpec(slug, sorted(set(faq.questions) | more), faq.answer, faq.basis))
    by_intent = {intent: sorted(extra[intent]) for intent in sorted(extra)}
    _refuse_clashes(result, by_intent)
    return result, by_intent


def _checked_intent(intent: str, slugs: set[str], known: set[str] | None) -> str:
    if intent.startswith(f"{FAQ_INTENT}/"):
        if intent.split("/", 1)[1] not in slugs:
            raise StaffDataError(f"example for {intent!r}, which is not among the published FAQs")
        return intent
    if not _NAME.fullmatch(intent) or intent == FAQ_INTENT:
        raise StaffDataError(f"example intent {intent!r} must be a topic id or faq/<slug>")
    if known is not None and intent not in known:
        raise StaffDataError(f"example intent {intent!r} is not in the domain")
    return intent


def _refuse_clashes(faqs: list[FaqSpec], examples: dict[str, list[str]]) -> None:
    """The same text may teach only one intent, or the model learns a coin toss."""
    owner: dict[str, str] = {}
    labelled = [(f"{FAQ_INTENT}/{f.slug}", q) for f in faqs for q in f.questions]
    labelled += [(intent, text) for intent, texts_ in examples.items() for text in texts_]
    for intent, text in labelled:
        if owner.setdefault(text, intent) != intent:
            raise StaffDataError(f"the same question is given for {owner[text]!r} and {intent!r}")


class _Block(str):
    """A string YAML writes in literal block style (``|``), as Rasa's own files are."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Block, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
)


def _examples_block(texts_: list[str]) -> _Block:
    return _Block("".join(f"- {text}\n" for text in texts_))


def response_text(faq: FaqSpec) -> str:
    """What the bot answers with for a cleaned FAQ: the answer, then its basis."""
    if not faq.basis:
        return faq.answer
    return f"{faq.answer}\n{texts()['basis_label']}{faq.basis}"


def faq_document(faqs: list[FaqSpec]) -> dict[str, Any] | None:
    """Rasa 3.1 training data for cleaned FAQs, or None when there are none."""
    if not faqs:
        return None
    return {
        "version": "3.1",
        "nlu": [{"intent": f"{FAQ_INTENT}/{f.slug}", "examples": _examples_block(f.questions)}
                for f in faqs],
        "responses": {f"utter_{FAQ_INTENT}/{f.slug}": [{"text": _Block(response_text(f))}]
                      for f in faqs},
        "rules": [{"rule": "answer staff-made FAQs",
                   "steps": [{"intent": FAQ_INTENT}, {"action": f"utter_{FAQ_INTENT}"}]}],
    }


def examples_document(examples: dict[str, list[str]]) -> dict[str, Any] | None:
    """Rasa 3.1 NLU data for cleaned examples, or None when there are none."""
    if not examples:
        return None
    return {"version": "3.1", "nlu": [{"intent": intent, "examples": _examples_block(texts_)}
                                      for intent, texts_ in examples.items()]}


def render(document: dict[str, Any] | None) -> str | None:
    """Stable YAML text (keys in insertion order, Chinese kept readable)."""
    if document is None:
        return None
    return HEADER + yaml.dump(document, Dumper=_Dumper, allow_unicode=True,
                              sort_keys=False, width=1000)


def write_staff_data(
    data_dir: Path, faqs: Iterable[FaqSpec], examples: Iterable[ExampleSpec],
    known_intents: set[str] | None = None,
) -> list[Path]:
    """Write ``data_dir/staff/{faq,examples}.yml``; return the staff files that now exist.

    A file is rewritten only when its content changed (the model fingerprint hashes it)
    and removed when it would be empty. ``known_intents`` (the domain's) rejects examples
    for intents the domain lacks.
    """
    cleaned_faqs, cleaned_examples = clean_staff_data(faqs, examples, known_intents)
    staff_dir = Path(data_dir) / STAFF_DIR
    contents = {FAQ_FILE: render(faq_document(cleaned_faqs)),
                EXAMPLES_FILE: render(examples_document(cleaned_examples))}
    present = []
    for name, text in contents.items():
        if _write_if_changed(staff_dir / name, text):
            present.append(staff_dir / name)
    if staff_dir.is_dir() and not any(staff_dir.iterdir()):
        staff_dir.rmdir()
    return present


def _write_if_changed(path: Path, text: str | None) -> bool:
    """Make ``path`` hold ``text`` (None: no file); True when the file exists afterwards."""
    if text is None:
        path.unlink(missing_ok=True)
        return False
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return True


def staff_files(data_dir: Path) -> list[Path]:
    """The staff files present under ``data_dir`` (what publishing copies to the live tree)."""
    staff_dir = Path(data_dir) / STAFF_DIR
    return [staff_dir / name for name in (FAQ_FILE, EXAMPLES_FILE) if (staff_dir / name).is_file()]


def domain_intents(domain_path: Path) -> set[str]:
    """Intent names a domain file declares (plain YAML, no Rasa import)."""
    data = yaml.safe_load(Path(domain_path).read_text(encoding="utf-8")) or {}
    names = set()
    for entry in data.get("intents", []):
        names.update(entry if isinstance(entry, dict) else [entry])
    return {str(name) for name in names}
