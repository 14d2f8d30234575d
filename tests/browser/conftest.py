"""The real clips' pose tracks (cached), for comparing the live page with the offline analysis."""

from tests.integration.conftest import clip_track  # noqa: F401  (a fixture, shared)
