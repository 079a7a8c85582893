"""Start the intent classifier's logistic regressions from the live model's (a staff publish).

A publish retrains on the live data plus a few staff FAQs and examples. The regression's objective
is strictly convex, so it has one optimum whatever the start; started from the live model's
coefficients (mapped by feature name and intent name; a new feature or intent starts at zero) the
solver only has less far to go. Measured on the data of 7 Dec plus ten FAQs: 159 -> 115 lbfgs
iterations, 129 -> 93 s alone, probabilities within 0.0004 of a cold fit; in bench/retrain.py's
publish (the live server answering meanwhile) the fit took 121 and 135 s, against 196 s cold.

The publish names the live model in ``WARM_START_ENV`` for the training subprocess. A full
training (``make model``) never sets it and fits from zero. A live model that cannot be read
(missing, trained before this classifier, another layout) means a cold fit and a warning.
"""
from __future__ import annotations

import logging
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # the publish process imports the name of the variable only
    import numpy as np
    from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)

# The path of the model whose coefficients a training starts from (set by bot.teaching.trainer).
WARM_START_ENV = "NIANGJIA_WARM_START_MODEL"


def parts_in(model_file: Path, component: str, filename: str) -> dict[str, Any] | None:
    """What ``component`` saved as ``filename`` in a Rasa model archive, or None."""
    import joblib

    try:
        with tarfile.open(model_file, "r:gz") as archive:
            for member in archive.getmembers():
                folder, _, name = member.name.rpartition("/")
                if name == filename and component in folder.rsplit("/", 1)[-1] and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is not None:
                        parts = joblib.load(handle)
                        return parts if isinstance(parts, dict) else None
    except Exception as exc:  # noqa: BLE001 - any unreadable model: fit from zero
        logger.warning("warm start: %s not read (%s): fitting from zero", model_file.name, type(exc).__name__)
        return None
    logger.warning("warm start: %s has no %s: fitting from zero", model_file.name, component)
    return None


def feature_names(vectorizers: Sequence[Any]) -> list[str]:
    """The column names of ``hstack`` of the vectorizers' outputs, each prefixed by its block."""
    names: list[str] = []
    for block, vectorizer in enumerate(vectorizers):
        columns = [""] * len(vectorizer.vocabulary_)
        for term, index in vectorizer.vocabulary_.items():
            columns[index] = f"{block}:{term}"
        names.extend(columns)
    return names


def start_from(previous: LogisticRegression | None, previous_names: list[str] | None, names: list[str],
               labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Coefficients and intercepts for a multinomial fit on columns ``names`` and classes of ``labels``
    (scikit-learn's order), taken from ``previous`` where both the column and the class exist."""
    import numpy as np

    if previous is None or previous_names is None:
        return None
    coef = getattr(previous, "coef_", None)
    classes = list(getattr(previous, "classes_", ()))
    if coef is None or coef.shape != (len(classes), len(previous_names)) or len(classes) < 3:
        return None  # not a multinomial model over these columns
    old_column = {name: i for i, name in enumerate(previous_names)}
    mapped = np.array([old_column.get(name, -1) for name in names])
    have = mapped >= 0
    new_classes = np.unique(np.asarray(labels))
    old_class = {c: i for i, c in enumerate(classes)}
    start = np.zeros((len(new_classes), len(names)))
    intercept = np.zeros(len(new_classes))
    for row, name in enumerate(new_classes):
        if name in old_class:
            start[row, have] = coef[old_class[name], mapped[have]]
            intercept[row] = previous.intercept_[old_class[name]]
    logger.info("warm start: %d of %d intents, %d of %d features from the live model",
                sum(c in old_class for c in new_classes), len(new_classes), int(have.sum()), len(names))
    return start, intercept


def warm(classifier: LogisticRegression, start: tuple[np.ndarray, np.ndarray] | None) -> LogisticRegression:
    """``classifier`` set to begin its fit at ``start`` (unchanged without one)."""
    if start is not None:
        classifier.set_params(warm_start=True)
        classifier.coef_, classifier.intercept_ = start
    return classifier
