"""``flatback eval``: the team's measuring instrument (issue #9, item 1).

Runs every labelled clip of a folder (optionally re-filmed by phone-like transforms)
through pose and analysis, scores the reports against the hand labels and returns
tables and JSON. ``labels`` reads labels.json, ``augment`` re-films, ``score`` scores,
``runner`` runs with a pose-track cache, ``tables`` presents.
"""

from flatback.evaluate.augment import EXTRA_REFILMS, REFILMS, Refilm, refilm_named, refilm_video
from flatback.evaluate.labels import ClipLabel, LabelsError, load_labels
from flatback.evaluate.runner import DEFAULT_CACHE, EvalResult, evaluate_folder
from flatback.evaluate.tables import all_tables, result_json

__all__ = [
    "DEFAULT_CACHE",
    "EXTRA_REFILMS",
    "REFILMS",
    "ClipLabel",
    "EvalResult",
    "LabelsError",
    "Refilm",
    "all_tables",
    "evaluate_folder",
    "load_labels",
    "refilm_named",
    "refilm_video",
    "result_json",
]
