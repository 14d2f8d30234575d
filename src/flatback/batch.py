"""Batches: many videos in one ``flatback analyze``, on this machine's cores or a Ray cluster.

Three parts, each usable alone:

- planning (pure): :func:`plan_jobs` turns the command's inputs (files and folders) into
  one :class:`Job` per video, each with the output folder it will write;
- the worker: :func:`run_job` analyses one video, writes its output folder (atomically,
  as a single ``flatback analyze`` does) and returns a small :class:`JobResult`; it never
  raises for a bad video, so one broken file cannot stop the batch;
- the summary: :func:`write_summary` writes ``summary.csv`` (one row per video, in the
  order of the inputs), atomically.

:func:`run_batch` ties them together: it skips videos whose output folder is complete,
runs the rest with N local processes (``jobs``) or as Ray tasks (``ray_address``), and
rewrites the summary after every finished video, so an interrupted batch still leaves a
valid summary of what was done. Only ``cli.py`` prints; this module reports through the
``on_result`` callback.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import socket
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from flatback.errors import FlatbackError, InputFileError
from flatback.pipeline.parts import cores_each, limit_processes
from flatback.settings import Settings

# what a folder contributes: its video files and keypoint files (not recursive)
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".3gp"})
KEYPOINT_SUFFIX = ".npz"
OUTPUT_SUFFIX = "flatback"
SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = ("video", "status", "exercise", "rep_count", "quality_rep_count", "end_range_deg", "error")
CLUSTER_EXTRA = "pip install 'flatback[cluster]'"


class BatchError(FlatbackError):
    """The batch cannot start as asked (two inputs write the same folder, Ray missing or
    unreachable): a usage problem, exit code 2 like a bad setting."""

    exit_code = 2


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Job:
    """One video of a batch. ``label``: the video as the user named it (the summary's
    ``video`` column); ``video`` and ``outdir``: absolute paths, valid on every worker
    (Ray tasks run in other folders, possibly on other machines)."""

    label: str
    video: Path
    outdir: Path


@dataclass(frozen=True)
class JobResult:
    """What one video gave: a summary row, plus the exit code a single run would have had
    (0 unless ``status`` is failed)."""

    video: str
    status: Status
    exercise: str = ""
    rep_count: int | None = None
    quality_rep_count: int | None = None
    end_range_deg: float | None = None
    error: str = ""
    exit_code: int = 0

    def row(self) -> dict[str, str]:
        def text(x) -> str:
            return "" if x is None else str(x)

        end_range = None if self.end_range_deg is None else round(self.end_range_deg, 1)
        return {
            "video": self.video, "status": self.status.value, "exercise": self.exercise,
            "rep_count": text(self.rep_count), "quality_rep_count": text(self.quality_rep_count),
            "end_range_deg": text(end_range), "error": self.error,
        }


# --- planning ---------------------------------------------------------------------------

def is_analysable_file(path: Path) -> bool:
    """A file a folder contributes to a batch: a video (by extension) or a keypoint file."""
    suffix = path.suffix.lower()
    return path.is_file() and not path.name.startswith(".") and (suffix in VIDEO_SUFFIXES or suffix == KEYPOINT_SUFFIX)


def is_batch(inputs: Sequence[str], ray_address: str | None = None) -> bool:
    """Whether the command's inputs make a batch: several inputs, a folder, or ``--ray``
    (one input without them keeps the single-video behaviour)."""
    return len(inputs) > 1 or any(Path(i).is_dir() for i in inputs) or ray_address is not None


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Files as given, folders replaced by their analysable files (sorted by name; not
    recursive, so the ``*_flatback`` folders a batch writes beside the videos, with their
    annotated.mp4, never become inputs). Duplicates (same file twice) are dropped."""
    out: list[str] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        found = [str(p) for p in sorted(path.iterdir()) if is_analysable_file(p)] if path.is_dir() else [item]
        for f in found:
            key = Path(f).resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def plan_jobs(inputs: Sequence[str], out: Path | None = None, suffix: str = OUTPUT_SUFFIX) -> list[Job]:
    """One job per video: its output folder is ``<out>/<stem>_<suffix>`` when ``out`` is
    given, else ``<stem>_<suffix>`` beside the video.

    Raises InputFileError when the inputs hold no video, BatchError when two videos would
    write the same output folder (same name in different folders, or ``a.mp4`` and ``a.mov``).
    """
    videos = expand_inputs(inputs)
    if not videos:
        suffixes = ", ".join(sorted(VIDEO_SUFFIXES | {KEYPOINT_SUFFIX}))
        what = f"{inputs[0]} is a folder" if len(inputs) == 1 else f"{', '.join(inputs)} are folders"
        raise InputFileError(f"{what} with no video files in it (looked for {suffixes}). Give a video file, "
                             "or a folder that holds videos.")
    jobs = []
    owner: dict[Path, str] = {}
    for label in videos:
        video = Path(label).resolve()
        parent = Path(out).resolve() if out is not None else video.parent
        outdir = parent / f"{video.stem}_{suffix}"
        if outdir in owner:
            raise BatchError(
                f"{owner[outdir]} and {label} would both write {outdir}. Rename one of them, "
                "or analyse them in separate runs with different -o folders."
            )
        owner[outdir] = label
        jobs.append(Job(label, video, outdir))
    return jobs


def summary_path(out: Path | None) -> Path:
    """Where summary.csv goes: in ``-o OUTDIR``, else in the current folder (where a single
    ``flatback analyze`` writes its output folder)."""
    return (Path(out) if out is not None else Path.cwd()) / SUMMARY_NAME


# --- skipping ---------------------------------------------------------------------------

def is_complete(job: Job, *, no_video: bool = False, save_keypoints: bool = False) -> bool:
    """Whether ``job.outdir`` already holds what this run would write: report.json, and
    annotated.mp4 (a measured video, unless ``no_video``) and keypoints.npz when asked for.
    Folders appear only once complete (``outputs.files.atomic_dir``); these checks catch
    a folder from a run with other options, or one made by hand."""
    d = job.outdir
    if not (d / "report.json").is_file():
        return False
    if save_keypoints and not (d / "keypoints.npz").is_file():
        return False
    measured = (d / "timeseries.csv").is_file()
    is_video = job.video.suffix.lower() != KEYPOINT_SUFFIX
    return not (measured and is_video and not no_video and not (d / "annotated.mp4").is_file())


def skipped_result(job: Job) -> JobResult | None:
    """The summary row of a complete output folder, read from its report.json (None when
    it cannot be read: then the video is analysed again)."""
    try:
        report = json.loads((job.outdir / "report.json").read_text())
        return JobResult(
            job.label, Status.SKIPPED, exercise=report["exercise"]["name"], rep_count=report["rep_count"],
            quality_rep_count=report.get("quality_rep_count"), end_range_deg=report.get("end_range_deg"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- the worker -------------------------------------------------------------------------

def run_job_on_one_core(job: Job, settings: Settings, **options) -> JobResult:
    """:func:`run_job` in a Ray task, which holds one CPU: the video is posed in one process."""
    limit_processes(1)
    return run_job(job, settings, **options)


def run_job(job: Job, settings: Settings, *, no_video: bool = False, save_keypoints: bool = False) -> JobResult:
    """Analyse one video and write its output folder; what a single ``flatback analyze``
    does, without printing. Creates its own Analyzer (and pose model), so it runs the same
    in this process, a worker process or a Ray task. Never raises for a bad video: the
    failure is the result (its one-line message and the exit code a single run gives)."""
    from flatback.io.source import check_readable_file
    from flatback.outputs.files import write_outputs
    from flatback.pipeline import Analyzer

    try:
        check_readable_file(job.video)  # also keeps a name like "0" from opening a webcam
        analysis = Analyzer(settings).run(str(job.video))
        write_outputs(
            analysis, job.outdir, decimals=settings.output.decimals, save_keypoints=save_keypoints,
            video_source=None if no_video else _video_source(job.video, analysis.track.info.path),
        )
    except FlatbackError as e:
        return failed_result(job, str(e), e.exit_code)
    except Exception as e:  # a bug, not bad input: one line, and how to get the details
        return failed_result(
            job, f"internal error ({type(e).__name__}: {e}). Re-run this video alone with FLATBACK_DEBUG=1 and report it.", 1
        )
    return JobResult(
        job.label, Status.OK, exercise=analysis.exercise.name.value, rep_count=analysis.rep_count,
        quality_rep_count=analysis.quality_rep_count, end_range_deg=analysis.end_range.deg,
    )


def failed_result(job: Job, message: str, exit_code: int) -> JobResult:
    return JobResult(job.label, Status.FAILED, error=" ".join(message.split()), exit_code=exit_code)


def _video_source(video: Path, analysed_path: str) -> Path | None:
    """The video to draw on: the input, or for a keypoint file the video it was made from
    if that is still there."""
    if video.suffix.lower() == KEYPOINT_SUFFIX:
        return Path(analysed_path) if Path(analysed_path).is_file() else None
    return video


# --- the summary ------------------------------------------------------------------------

def write_summary(results: Iterable[JobResult], path: Path) -> Path:
    """summary.csv: :data:`SUMMARY_COLUMNS`, one row per video, written to a temporary
    file in the same folder and renamed over ``path`` (never seen half-written)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        from flatback.errors import OutputError

        raise OutputError(f"Cannot write {path}: {e.strerror}. Choose another folder with -o.") from None
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
            w.writeheader()
            for r in results:
                w.writerow(r.row())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def batch_exit_code(results: Iterable[JobResult]) -> int:
    """0 when no video failed, else the largest exit code among the failures (so a batch
    with an unreadable file, 3, and a video without a person, 4, exits 4)."""
    return max((r.exit_code for r in results if r.status is Status.FAILED), default=0)


# --- running ----------------------------------------------------------------------------

OnResult = Callable[[JobResult], None]


def run_batch(
    jobs: Sequence[Job], settings: Settings, summary: Path, *, n_jobs: int = 1, ray_address: str | None = None,
    force: bool = False, no_video: bool = False, save_keypoints: bool = False, on_result: OnResult | None = None,
) -> list[JobResult]:
    """Run every job (skipping complete ones unless ``force``) with ``n_jobs`` processes,
    or as Ray tasks when ``ray_address`` is given ("auto", "local" or "HOST:PORT");
    rewrites ``summary`` after each video. Returns the results in the order of ``jobs``."""
    done: dict[int, JobResult] = {}

    def record(i: int, result: JobResult) -> None:
        done[i] = result
        write_summary((done[k] for k in sorted(done)), summary)
        if on_result is not None:
            on_result(result)

    todo: list[tuple[int, Job]] = []
    for i, job in enumerate(jobs):
        skipped = None if force or not is_complete(job, no_video=no_video, save_keypoints=save_keypoints) else skipped_result(job)
        if skipped is not None:
            record(i, skipped)
        else:
            todo.append((i, job))
    options = {"no_video": no_video, "save_keypoints": save_keypoints}
    if ray_address is not None:
        _run_ray(todo, settings, options, ray_address, record)
    else:
        _run_local(todo, settings, options, n_jobs, record)
    if not done:  # nothing to run and nothing skipped: still leave an (empty) summary
        write_summary([], summary)
    return [done[k] for k in sorted(done)]


def _run_local(todo: list[tuple[int, Job]], settings: Settings, options: dict, n_jobs: int,
               record: Callable[[int, JobResult], None]) -> None:
    if n_jobs <= 1 or len(todo) <= 1:
        for i, job in todo:
            record(i, run_job(job, settings, **options))
        return
    # spawn, not fork: the parent may run threads (the progress bar), and each worker
    # then loads its own pose model from scratch, as on macOS and Windows
    context = multiprocessing.get_context("spawn")
    workers = min(n_jobs, len(todo))
    # videos analysed at once share the cores: each poses in its share of processes (pipeline/parts.py)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=limit_processes,
                             initargs=(cores_each(workers),)) as pool:
        futures = {pool.submit(run_job, job, settings, **options): (i, job) for i, job in todo}
        try:
            for future in as_completed(futures):
                i, job = futures[future]
                try:
                    result = future.result()
                except Exception as e:  # the worker process died (out of memory, a crash in native code)
                    result = failed_result(job, f"the worker process analysing it stopped ({type(e).__name__}: {e}).", 1)
                record(i, result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def import_ray():
    """The ray module, or a BatchError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise BatchError(f"--ray needs Ray, which is not installed: {CLUSTER_EXTRA}") from None
    return ray


def ray_init_address(address: str) -> str | None:
    """``--ray`` value -> ``ray.init(address=...)``: "auto" is Ray's own default (the
    cluster in RAY_ADDRESS or started on this machine with ``ray start``, else a new
    local instance); "local" always starts a new local instance; anything else is the
    head's address, HOST:PORT (or ray://HOST:10001 for Ray Client)."""
    return None if address == "auto" else address


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast with a BatchError when a HOST:PORT (or ray://HOST:PORT) address does not
    answer: ``ray.init`` itself keeps retrying for minutes."""
    if address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise BatchError(f"--ray {address!r} is not an address: give auto, or the head's HOST:PORT (e.g. 10.0.0.5:6379).")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise BatchError(
            f"Cannot reach the Ray head at {address} ({e.strerror or e}). Start it there with "
            "`ray start --head --port=6379`, or check the address and the firewall."
        ) from None


def _run_ray(todo: list[tuple[int, Job]], settings: Settings, options: dict, address: str,
             record: Callable[[int, JobResult], None]) -> None:
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        check_reachable(address)
        try:
            # workers' own logs (mediapipe's start-up noise) stay in Ray's log folder
            ray.init(address=ray_init_address(address), log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise BatchError(
                f"Cannot connect to the Ray cluster at {address!r}: {' '.join(str(e).split())[:300]} "
                "Start one with `ray start --head`, or check the address (HEAD:6379)."
            ) from None
    try:
        task = ray.remote(num_cpus=1)(run_job_on_one_core)
        refs = {task.remote(job, settings, **options): (i, job) for i, job in todo}
        pending = list(refs)
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            for ref in finished:
                i, job = refs[ref]
                try:
                    result = ray.get(ref)
                except Exception as e:  # the task or its worker died; run_job itself does not raise
                    result = failed_result(job, f"the Ray task analysing it failed ({type(e).__name__}: {e}).", 1)
                record(i, result)
    finally:
        if started_here:
            ray.shutdown()


__all__ = [
    "BatchError", "Job", "JobResult", "Status", "SUMMARY_COLUMNS", "batch_exit_code", "expand_inputs", "is_batch",
    "is_complete", "plan_jobs", "run_batch", "run_job", "summary_path", "write_summary",
]
