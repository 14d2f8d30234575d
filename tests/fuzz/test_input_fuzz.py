"""Input fuzzing (issue 13): a few hundred truncated, corrupted and mislabelled videos
through ``flatback analyze``. Each must end cleanly: exit 0 with a valid report folder, or
exit 3 (the file) / 4 (what it shows) with one line naming the problem; never a
traceback, an internal error or a hang, and never a leftover (partial or temporary)
output folder.

Most variants run in this process through typer's CliRunner, with the pose model
replaced by a replay of the simulated clip's own poses matched by time (the fuzzing is
of the input path: opening, probing, decoding, timestamps, rotation, size, then the
whole analysis and every output, the annotated video's second decoding included).
A sample runs as real ``flatback`` processes with the real MediaPipe model.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from flatback.cli import app
from flatback.outputs.report import Report
from tests.conftest import CLIPS, IN_CI, ROOT
from tests.fuzz.corpus import build_corpus, tiny_clip

REAL_CLIP = CLIPS / "double_leg_lift_lowres.mp4"  # 240x240, the smallest real lying clip
VARIANT_TIMEOUT_S = 60
# real processes: two run the model through a whole (tiny) clip, the rest end before or at decoding
SUBPROCESS_SAMPLE = ("intact/faststart", "rotated/90", "cut/index_last/", "flip/header/0", "mislabel/png",
                     "mislabel/text", "mislabel/audio_only", "size/huge", "notfile/folder")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    real = REAL_CLIP if REAL_CLIP.exists() else None
    if real is None:
        from tests.conftest import skip_or_fail

        if IN_CI:
            skip_or_fail(f"{REAL_CLIP} is missing: the fuzzing of a real clip needs it")
    return build_corpus(tmp_path_factory.mktemp("fuzz"), real)


class ReplayByTime:
    """Stands in for MediaPipePose: the simulated clip's pose nearest each frame's time."""

    track = None
    name = "fuzz-replay"

    def __init__(self, settings=None):
        if ReplayByTime.track is None:
            ReplayByTime.track = tiny_clip().track

    def __call__(self, frame):
        t = self.track.t_s
        i = int(np.clip(np.searchsorted(t, frame.t_s), 0, len(t) - 1))
        return dataclasses.replace(self.track.frame(i), index=frame.index, t_s=frame.t_s)

    def close(self):
        pass


class ReplayPeopleByTime(ReplayByTime):
    """The same as the multi-person backend (the default pose stage): that one person per frame."""

    name = "fuzz-replay-people"

    def __init__(self, settings=None, options=None):
        super().__init__(settings)

    def __call__(self, frame):
        from flatback.types import PeopleFrame

        return PeopleFrame(index=frame.index, t_s=frame.t_s, people=(super().__call__(frame),), searched=True)


class Hang(Exception):
    pass


def check_outcome(name: str, code: int, output: str, folder: Path, expect: tuple[int, ...]) -> list[str]:
    """Problems with one variant's ending ([] if clean)."""
    problems = []
    if code not in expect:
        problems.append(f"exit {code} (expected one of {expect})")
    if "Traceback" in output or "internal error" in output:
        problems.append("traceback or internal error")
    outs = [p for p in folder.iterdir() if p.is_dir() and "out" in p.name]
    if code == 0:
        try:
            Report.model_validate_json((folder / "out" / "report.json").read_text())
        except Exception as e:  # noqa: BLE001 - any failure here is the finding
            problems.append(f"no valid report.json ({type(e).__name__})")
        if [p.name for p in outs] != ["out"]:
            problems.append(f"output folders {sorted(p.name for p in outs)}")
    else:
        lines = [line for line in output.splitlines() if line.strip()]
        if len(lines) != 1 or not lines[0].startswith("flatback: error: "):
            problems.append(f"not one error line: {output[-300:]!r}")
        if outs:
            problems.append(f"leftover output {sorted(p.name for p in outs)}")
    return [f"{name}: {p}" for p in problems]


def _alarm(signum, frame):
    raise Hang()


def test_fuzzed_inputs_end_cleanly_in_process(corpus, monkeypatch, record_property):
    import flatback.pose.mediapipe as mp_backend
    import flatback.pose.multi as multi_backend

    monkeypatch.setattr(mp_backend, "MediaPipePose", ReplayByTime)
    monkeypatch.setattr(multi_backend, "MultiPose", ReplayPeopleByTime)
    # the replay backends exist in this process only: no parts posed by new processes
    monkeypatch.setattr("flatback.pipeline.parts.processes_for", lambda settings: 1)
    runner = CliRunner()
    outcomes: collections.Counter[int] = collections.Counter()
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    problems: list[str] = []
    t0 = time.monotonic()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for k, v in enumerate(corpus):
            folder = v.path.parent
            signal.alarm(VARIANT_TIMEOUT_S)
            try:
                    # the input as a user gives it: a name in the folder they are in
                # every fourth variant also draws annotated.mp4 (a second decoding of the damaged file)
                video = [] if k % 4 == 0 else ["--no-video"]
                result = _invoke_in(folder, runner, ["analyze", "-o", "out", "-q", *video, "--", v.path.name])
            except Hang:
                problems.append(f"{v.name}: no answer within {VARIANT_TIMEOUT_S} s")
                continue
            finally:
                signal.alarm(0)
            code = result.exit_code
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                problems.append(f"{v.name}: uncaught {type(result.exception).__name__}: {result.exception}")
            outcomes[code] += 1
            by_kind[v.name.split("/")[0]][code] += 1
            problems += check_outcome(v.name, code, result.output, folder, v.expect_codes)
    finally:
        signal.signal(signal.SIGALRM, old)
    elapsed = time.monotonic() - t0
    figures = {"variants": len(corpus), "by_exit_code": dict(sorted(outcomes.items())),
               "by_kind": {k: dict(sorted(c.items())) for k, c in sorted(by_kind.items())},
               "problems": len(problems), "seconds": round(elapsed, 1)}
    record_property("fuzz", json.dumps(figures))
    print(f"\nfuzz in-process: {json.dumps(figures)}")
    assert len(corpus) >= 200
    assert not problems, "\n".join(problems)


def _invoke_in(folder: Path, runner: CliRunner, args: list[str]):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return runner.invoke(app, args)
    finally:
        os.chdir(cwd)


def test_a_sample_as_real_processes_with_the_real_model(corpus):
    """The real entry point and MediaPipe on one variant of each sort: same clean endings."""
    sample = []
    for prefix in SUBPROCESS_SAMPLE:
        sample += [v for v in corpus if v.name.startswith(prefix)][:1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    problems, codes = [], collections.Counter()
    for v in sample:
        folder = v.path.parent
        for old in folder.glob("*out*"):
            __import__("shutil").rmtree(old)
        proc = subprocess.run([sys.executable, "-m", "flatback.cli", "analyze", "-o", "out", "-q", "--no-video",
                               "--", v.path.name], cwd=folder, capture_output=True, text=True, timeout=300, env=env)
        codes[proc.returncode] += 1
        problems += check_outcome(v.name, proc.returncode, proc.stderr + proc.stdout, folder, v.expect_codes)
    print(f"\nfuzz subprocesses: {len(sample)} variants, by exit code {dict(sorted(codes.items()))}")
    assert len(sample) >= 8
    assert not problems, "\n".join(problems)
