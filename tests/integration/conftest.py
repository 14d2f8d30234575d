"""Pose tracks of the real clips, computed once per test session (and cached between
local runs in pytest's cache folder, keyed by the clip's size and time stamp and the pose stage's code)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pytest

from flatback.pipeline import Analyzer
from flatback.types import PoseTrack
from tests.conftest import clips_or_skip, skip_or_fail


@cache
def pose_code() -> str:
    """Hash of the code that turns a video into a pose track: decoding, the pose models,
    the frames chosen and filled in, the parts."""
    src = Path(__file__).resolve().parents[2] / "src" / "flatback"
    files = sorted((src / "pose").glob("*.py")) + [src / "io" / "source.py", src / "pipeline" / "parts.py"]
    return hashlib.sha1(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


@pytest.fixture(scope="session")
def clip_track(request):
    memo: dict[str, PoseTrack] = {}
    cache_dir = request.config.cache.mkdir("flatback-pose-tracks")

    def get(name: str) -> PoseTrack:
        if name not in memo:
            path = clips_or_skip() / name
            if not path.exists():
                skip_or_fail(f"{name} is not in {path.parent}")
            stat = path.stat()
            key = hashlib.sha1(f"{name}:{stat.st_size}:{stat.st_mtime_ns}:{pose_code()}".encode()).hexdigest()[:16]
            cached = cache_dir / f"{path.stem}-{key}.npz"
            if cached.exists():
                memo[name] = PoseTrack.from_keypoint_file(cached)
            else:
                memo[name] = Analyzer().track(path)
                memo[name].save(cached)
        return memo[name]

    return get
