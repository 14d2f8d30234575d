"""The upload page's back end: a video in, its analysis as a job, the report out.

The upload's name is never used: the type is read from the file's first bytes
(:func:`sniff_video`), the file is stored under a name the server makes, and removed once
analysed (or refused).
"""

from __future__ import annotations

import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flatback.errors import FlatbackError
from flatback.log.history import TrainingLog
from flatback.outputs.files import write_outputs
from flatback.outputs.report import Report
from flatback.pipeline.offline import Analyzer
from flatback.pose import PoseBackend
from flatback.settings import Settings

# (what the first bytes hold, the extension the file is stored under, its name for messages)
SIGNATURES: tuple[tuple[Any, str, str], ...] = (
    (lambda b: b[4:8] == b"ftyp", ".mp4", "MP4/MOV"),
    (lambda b: b[:4] == b"\x1a\x45\xdf\xa3", ".mkv", "WebM/Matroska"),
    (lambda b: b[:4] == b"RIFF" and b[8:12] == b"AVI ", ".avi", "AVI"),
    (lambda b: b[:4] == b"\x00\x00\x01\xba", ".mpg", "MPEG-PS"),
    (lambda b: len(b) > 188 and b[0] == 0x47 and b[188] == 0x47, ".ts", "MPEG-TS"),
)
SNIFF_BYTES = 4096  # the first bytes kept for sniffing


def sniff_video(head: bytes) -> str | None:
    """The stored file's extension for a video container recognised from its first bytes, else None."""
    for test, ext, _ in SIGNATURES:
        if test(head):
            return ext
    return None


def known_types() -> str:
    return ", ".join(name for _, _, name in SIGNATURES)


@dataclass
class Job:
    """One upload's analysis. ``stage``: queued, analysing, drawing, done or failed."""

    id: str
    stage: str = "queued"
    fraction: float = 0.0
    error: str | None = None
    report_url: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "stage": self.stage, "fraction": round(self.fraction, 3), "error": self.error,
                "report_url": self.report_url, "summary": self.summary}


class Jobs:
    """Analyses run one at a time in a background thread (the pose model needs the CPU)."""

    def __init__(self, settings: Settings, reports_dir: Path, db_url: str | None,
                 backend: Callable[[], PoseBackend] | None = None):
        """``backend``: makes the pose backend for one upload (None: the default model)."""
        self.settings = settings
        self.backend = backend
        self.reports_dir = reports_dir
        self.db_url = db_url
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def submit(self, video: Path, save: bool) -> Job:
        """Analyse ``video`` (a file this module stored; it is removed afterwards)."""
        job = Job(datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, video, save), daemon=True, name=f"flatback-job-{job.id}").start()
        return job

    def _run(self, job: Job, video: Path, save: bool) -> None:
        try:
            with self._one_at_a_time:
                job.stage = "analysing"

                def tracked(done_s: float, total_s: float) -> None:
                    job.fraction = 0.8 * min(done_s / total_s, 1.0) if total_s > 0 else 0.0

                def drawn(done_s: float, total_s: float) -> None:
                    job.stage = "drawing"
                    job.fraction = 0.8 + 0.2 * min(done_s / total_s, 1.0) if total_s > 0 else 0.8

                backend = self.backend() if self.backend is not None else None
                analysis = Analyzer(self.settings, backend).run(video, tracked)
                job.stage = "drawing"
                out = write_outputs(analysis, self.reports_dir / job.id, decimals=self.settings.output.decimals,
                                    video_source=video, progress=drawn)
                report = Report.from_result(analysis)
                if save:
                    TrainingLog(self.db_url).add_set(report)
                job.summary = {"rep_count": report.rep_count, "quality_rep_count": report.quality_rep_count,
                               "exercise": report.exercise.name, "saved": save}
                job.report_url = f"/reports/{out.name}/report.html"
                job.fraction, job.stage = 1.0, "done"
        except FlatbackError as e:
            job.stage, job.error = "failed", str(e)
        except Exception as e:  # a bug: one line for the page, the trace in the server's log
            traceback.print_exc()
            job.stage, job.error = "failed", f"internal error ({type(e).__name__}); the server's log has the details"
        finally:
            shutil.rmtree(video.parent, ignore_errors=True)


__all__ = ["Job", "Jobs", "SNIFF_BYTES", "known_types", "sniff_video"]
