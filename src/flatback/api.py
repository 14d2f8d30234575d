"""The library call: ``flatback.analyze(path) -> Report``, a thin layer over the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flatback.outputs.report import Report
from flatback.pipeline.offline import Analyzer, Progress
from flatback.settings import Settings


def analyze(
    path: str | Path, settings: Settings | None = None, *, progress: Progress | None = None, **overrides: Any,
) -> Report:
    """Analyse a side-view video (or keypoint file) of leg lifts; returns report.json's content.

    ``overrides`` use ``section__key=value``, e.g. ``analyze("clip.mp4", reps__rest="top")``.
    Raises :class:`flatback.errors.FlatbackError` for input it cannot analyse. For the
    typed domain results (and the per-frame stages), use ``Analyzer(settings).run(path)``.
    """
    settings = settings or Settings()
    if overrides:
        settings = settings.replace(**overrides)
    return Report.from_result(Analyzer(settings).run(path, progress))
