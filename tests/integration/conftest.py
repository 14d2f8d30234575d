"""Pose tracks of the real clips, computed once per test session (and cached between
local runs in pytest's cache folder, keyed by the clip's size and time stamp, and a version bumped when the pose stage changes)."""

from __future__ import annotations

import hashlib

import pytest

from flatback.pipeline import Analyzer
from flatback.types import PoseTrack
from tests.conftest import clips_or_skip, skip_or_fail


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
            key = hashlib.sha1(f"{name}:{stat.st_size}:{stat.st_mtime_ns}:v5".encode()).hexdigest()[:16]
            cached = cache_dir / f"{path.stem}-{key}.npz"
            if cached.exists():
                memo[name] = PoseTrack.from_keypoint_file(cached)
            else:
                memo[name] = Analyzer().track(path)
                memo[name].save(cached)
        return memo[name]

    return get
