"""Shared test set-up: where the real clips are, and the project's own fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "clips"  # resolved from the project root, as in CI

pytest_plugins = ["tests.fixtures.synthetic", "tests.fixtures.videos", "tests.fixtures.demo"]


IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip, saying why, on a developer's machine; fail in CI (``CI=true``), where
    everything the suite needs must be there: no test may pass by being skipped."""
    if IN_CI:
        pytest.fail(f"{reason}. CI=true, so this fails instead of skipping.", pytrace=False)
    pytest.skip(reason)


def clips_or_skip() -> Path:
    if not (CLIPS / "labels.json").exists():
        skip_or_fail(f"real clips not found at {CLIPS} (they live in ../shared/clips beside the project)")
    return CLIPS


def postgres_url_or_skip() -> str:
    url = os.environ.get("FLATBACK_TEST_PG_URL")
    if not url:
        skip_or_fail("FLATBACK_TEST_PG_URL is not set: ./run.sh test installs and starts PostgreSQL and sets it")
    return url


@pytest.fixture(scope="session")
def labels() -> dict[str, dict]:
    clips = clips_or_skip()
    return {c["clip"]: c for c in json.loads((clips / "labels.json").read_text())}
