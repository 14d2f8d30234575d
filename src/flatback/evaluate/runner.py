"""``flatback eval``: every labelled clip (and, with augment, every re-filmed version)
through pose and analysis, with pose tracks cached.

Pose is the expensive part and measurement changes happen after it, so pose tracks are
cached as keypoint files under ``cache``, and so are the scored fields of each analysis::

    cache/
      videos/<clip>/<transform>.v<N>.mp4                        re-filmed clips (--augment)
      tracks/<clip>/<transform>.v<N>.<pose key>.npz             pose tracks (PoseTrack.save)
      results/<clip>/<transform>.v<N>.<pose key>.<analysis key>.json   analysis outcomes

``<clip>`` is the first 16 hex digits of the clip file's sha256 (a renamed or copied
clip hits the cache); ``original`` stands for the clip as filmed. The pose key hashes
what changes a pose track: the ``source`` and ``pose`` settings, the keypoint file
version and the mediapipe version. The analysis key hashes what changes an analysis of
a given track: all settings, the source code of the flatback package (outside
``evaluate/``), numpy's and scipy's versions. Any code change in the analysis therefore
re-runs the analysis (about a second per clip) but never pose.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

from flatback.errors import FlatbackError
from flatback.evaluate.augment import ORIGINAL, Refilm, refilm_video
from flatback.evaluate.labels import ClipLabel, load_labels
from flatback.evaluate.score import (
    CRASHED,
    ClipScore,
    Measured,
    MeasuredRep,
    Outcome,
    score_clip,
)
from flatback.settings import Settings
from flatback.types import KEYPOINT_FILE_VERSION

DEFAULT_CACHE = Path("~/.cache/flatback/eval")
RESULT_FILE_VERSION = 1

# progress(done, total, what): called after each (clip, transform) pair
EvalProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Job:
    """One clip under one transform (``refilm`` None: as filmed)."""

    clip: Path
    label: ClipLabel
    refilm: Refilm | None = None

    @property
    def transform(self) -> str:
        return ORIGINAL if self.refilm is None else self.refilm.name

    @property
    def transform_key(self) -> str:
        return ORIGINAL if self.refilm is None else self.refilm.key


@dataclass(frozen=True)
class EvalResult:
    """Every scored (clip, transform) pair, in run order, and how it was made."""

    folder: str
    transforms: tuple[str, ...]
    scores: tuple[ClipScore, ...]
    pose_key: str
    analysis_key: str
    cache: str
    tracked: int  # pairs whose pose was computed in this run (the rest came from the cache)


UNKEYED_POSE_DEFAULTS = {("people", "one"), ("max_rate_hz", 0.0)}


def pose_key(settings: Settings) -> str:
    """Hash of everything that changes a pose track: the source and pose settings, the
    keypoint file version and the mediapipe version (12 hex digits)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        mediapipe = version("mediapipe")
    except PackageNotFoundError:  # tracks then come from the cache or a stub backend
        mediapipe = "none"
    blob = json.dumps(
        {
            "source": settings.source.model_dump(),
            # pose.people = "one" is the single-person tracker and pose.max_rate_hz = 0 every frame,
            # what the key always meant: left out, so tracks made before the settings existed stay valid
            "pose": {k: v for k, v in settings.pose.model_dump().items() if (k, v) not in UNKEYED_POSE_DEFAULTS},
            "keypoint_file": KEYPOINT_FILE_VERSION,
            "mediapipe": mediapipe,
            # with every person followed, the cached track is the chosen exerciser's in the
            # shots that show the exercise: the code that follows and chooses is part of it
            **({} if settings.pose.people == "one" else {"selection": selection_fingerprint()}),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


SELECTION_CODE = ("pose/multi.py", "pose/conditioning.py", "pose/sampling.py", "pipeline/parts.py", "io/source.py",
                  "measure/people.py", "measure/shots.py")


@lru_cache(maxsize=1)
def selection_fingerprint() -> str:
    """sha256 of the source of the multi-person backend, the frames it poses and fills in,
    and the exerciser's selection."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for rel in SELECTION_CODE:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()


def analysis_key(settings: Settings) -> str:
    """Hash of everything that changes an analysis of a given pose track (12 hex digits)."""
    from importlib.metadata import version

    blob = json.dumps(
        {
            "settings": settings.model_dump(mode="json"),
            "code": code_fingerprint(),
            "numpy": version("numpy"),
            "scipy": version("scipy"),
            "result_file": RESULT_FILE_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the flatback package's source files (not ``evaluate/``), paths and bytes."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "evaluate":
            continue
        h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, first 16 hex digits (remembered per path, size, mtime)."""
    st = path.stat()
    return _content_hash(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _content_hash(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def track_file(cache: Path, clip_hash: str, job: Job, key: str) -> Path:
    return cache / "tracks" / clip_hash / f"{job.transform_key}.{key}.npz"


def result_file(cache: Path, clip_hash: str, job: Job, key: str) -> Path:
    return cache / "results" / clip_hash / f"{job.transform_key}.{key}.json"


def video_file(cache: Path, clip_hash: str, job: Job) -> Path:
    return cache / "videos" / clip_hash / f"{job.transform_key}.mp4"


def plan_jobs(
    folder: Path, labels: tuple[ClipLabel, ...], refilms: tuple[Refilm, ...], only: tuple[str, ...] = ()
) -> list[Job]:
    """Every (clip, transform) pair to run: all clips as filmed first, then each transform.

    ``only``: clip names (with or without extension) to keep; raises ``FlatbackError``
    naming any that are not labelled.
    """
    if only:
        names = {lab.clip for lab in labels} | {Path(lab.clip).stem for lab in labels}
        unknown = [o for o in only if o not in names]
        if unknown:
            raise FlatbackError(f"--only {', '.join(unknown)}: not labelled in {folder}/labels.json.")
        labels = tuple(lab for lab in labels if lab.clip in only or Path(lab.clip).stem in only)
    out = [Job(folder / lab.clip, lab) for lab in labels]
    for refilm in refilms:
        out += [Job(folder / lab.clip, lab, refilm) for lab in labels]
    return out


def ensure_track(job: Job, settings: Settings, cache: Path, key: str) -> tuple[Path, bool]:
    """The cached pose track of ``job``, computed (and the re-filmed video written) if
    absent. Returns (keypoint file, whether pose ran now)."""
    from flatback.pipeline import Analyzer

    clip_hash = content_hash(job.clip)
    out = track_file(cache, clip_hash, job, key)
    if out.is_file():
        return out, False
    source = job.clip
    if job.refilm is not None:
        source = video_file(cache, clip_hash, job)
        if not source.is_file():
            source.parent.mkdir(parents=True, exist_ok=True)
            refilm_video(job.clip, source, job.refilm)
    track = Analyzer(settings).track(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    track.save(out)
    return out, True


def run_job(job: Job, settings: Settings, cache: Path, keys: tuple[str, str]) -> tuple[Outcome, bool]:
    """Pose and analysis of one pair, each from the cache when there. A FlatbackError is
    a refusal; any other exception is a crash (never cached), its last frame named.
    Returns (outcome, whether pose ran now)."""
    try:
        cached = cached_outcome(job, cache, keys)
        if cached is not None:
            return cached, False
        outcome, tracked = _analyse(job, settings, cache, keys[0])
        if outcome.status != CRASHED:
            write_outcome(result_file(cache, content_hash(job.clip), job, ".".join(keys)), outcome)
        return outcome, tracked
    except Exception as e:  # noqa: BLE001 - a bug in one clip is listed loudly and the run goes on
        return _crash(job, e), False


def cached_outcome(job: Job, cache: Path, keys: tuple[str, str]) -> Outcome | None:
    """The stored outcome of ``job`` under these (pose, analysis) keys, or None."""
    cached = read_outcome(result_file(cache, content_hash(job.clip), job, ".".join(keys)))
    if cached is None:
        return None
    return replace(cached, clip=job.label.clip, transform=job.transform)  # same content, maybe another name


def _analyse(job: Job, settings: Settings, cache: Path, pose: str) -> tuple[Outcome, bool]:
    from flatback.outputs.report import Report
    from flatback.pipeline import Analyzer
    from flatback.types import PoseTrack

    tracked = False
    try:
        path, tracked = ensure_track(job, settings, cache, pose)
        analysis = Analyzer(settings).analyze_track(PoseTrack.from_keypoint_file(path))
        return Outcome(job.label.clip, job.transform, measured=Measured.from_report(Report.from_result(analysis))), tracked
    except FlatbackError as e:
        return Outcome(job.label.clip, job.transform, refused=str(e)), tracked
    except Exception as e:  # noqa: BLE001 - see run_job
        return _crash(job, e), tracked


def _crash(job: Job, e: Exception) -> Outcome:
    where = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
    return Outcome(job.label.clip, job.transform, crashed=f"{type(e).__name__}: {e}{at}")


def read_outcome(path: Path) -> Outcome | None:
    """A cached outcome, or None if absent or unreadable (then it is recomputed)."""
    try:
        d = json.loads(path.read_text())
        m = d["measured"]
        measured = None if m is None else Measured(
            exercise=m["exercise"], rep_count=m["rep_count"], partial_reps=m["partial_reps"],
            reps=tuple(MeasuredRep(**r) for r in m["reps"]),
        )
        return Outcome(d["clip"], d["transform"], measured=measured, refused=d["refused"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_outcome(path: Path, outcome: Outcome) -> None:
    """Store an outcome atomically (JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(outcome)))
    tmp.replace(path)


def evaluate_folder(
    folder: str | Path,
    *,
    refilms: tuple[Refilm, ...] = (),
    cache: str | Path = DEFAULT_CACHE,
    only: tuple[str, ...] = (),
    jobs: int = 1,
    settings: Settings | None = None,
    progress: EvalProgress | None = None,
) -> EvalResult:
    """Run and score every labelled clip of ``folder`` (and its ``refilms`` versions).

    ``jobs`` > 1 runs pairs in that many processes (pose is the slow part). Raises
    FlatbackError for bad input (no labels, bad labels, missing clip, bad --only).
    """
    folder = Path(folder)
    settings = settings or Settings()
    labels = load_labels(folder)
    plan = plan_jobs(folder, labels, refilms, only)
    cache = Path(cache).expanduser()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FlatbackError(f"Cannot create the cache folder {cache}: {e.strerror}. Choose another with --cache.") from None
    keys = (pose_key(settings), analysis_key(settings))
    outcomes: dict[int, Outcome] = {}
    tracked = 0

    def finish(i: int, outcome: Outcome, ran: bool) -> None:
        nonlocal tracked
        outcomes[i] = outcome
        tracked += ran
        if progress:
            progress(len(outcomes), len(plan), f"{plan[i].label.clip} [{plan[i].transform}]")

    todo = []
    for i, job in enumerate(plan):  # cached outcomes first, in this process: a warm run takes seconds
        cached = cached_outcome(job, cache, keys)
        if cached is not None:
            finish(i, cached, False)
        else:
            todo.append(i)
    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            finish(i, *run_job(plan[i], settings, cache, keys))
    else:
        import multiprocessing

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_job, plan[i], settings, cache, keys): i for i in todo}
            for fut in as_completed(futures):
                try:
                    finish(futures[fut], *fut.result())
                except Exception as e:  # noqa: BLE001 - a worker died (e.g. in native code): list it, go on
                    finish(futures[fut], _crash(plan[futures[fut]], e), False)
    scores = tuple(score_clip(plan[i].label, outcomes[i]) for i in range(len(plan)))
    return EvalResult(
        folder=str(folder),
        transforms=(ORIGINAL,) + tuple(r.name for r in refilms),
        scores=scores,
        pose_key=keys[0],
        analysis_key=keys[1],
        cache=str(cache),
        tracked=tracked,
    )
