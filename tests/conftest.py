"""Shared test set-up: where the real clips are, and the project's own fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "clips"  # resolved from the project root, as in CI

pytest_plugins = ["tests.fixtures.synthetic", "tests.fixtures.videos", "tests.fixtures.demo"]


def clips_or_skip() -> Path:
    if not (CLIPS / "labels.json").exists():
        pytest.skip(f"real clips not found at {CLIPS} (they live in ../shared/clips beside the project)")
    return CLIPS


@pytest.fixture(scope="session")
def labels() -> dict[str, dict]:
    clips = clips_or_skip()
    return {c["clip"]: c for c in json.loads((clips / "labels.json").read_text())}
