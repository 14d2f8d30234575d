"""The training log against SQLite and a real PostgreSQL server (started by ./run.sh test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from flatback.cli import app
from flatback.log.history import TrainingLog
from flatback.outputs.report import Report
from flatback.pipeline import Analyzer
from flatback.simulate import demo_clip
from tests.conftest import postgres_url_or_skip

T0 = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)


def fresh_postgres(url: str) -> str:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return fresh_postgres(postgres_url_or_skip())


@pytest.fixture(scope="module")
def report():
    return Report.from_result(Analyzer().analyze_track(demo_clip().track))


def test_migrations_create_the_schema_and_are_idempotent(url):
    log = TrainingLog(url)
    tables = set(inspect(log.engine).get_table_names())
    assert {"sessions", "sets", "reps", "alembic_version"} <= tables
    with log.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    TrainingLog(url)  # opening again upgrades nothing and loses nothing


def test_sets_group_into_sessions_and_summaries_hold_the_numbers(url, report):
    log = TrainingLog(url)
    first = log.add_set(report, at=T0)
    assert log.add_set(report, at=T0 + timedelta(minutes=20)) == first  # same session
    later = log.add_set(report, at=T0 + timedelta(days=3), pain=True)
    assert later != first
    history = log.summaries()
    assert [h.sets for h in history] == [2, 1]
    assert history[0].reps == 2 * report.rep_count
    assert history[0].end_range_deg == pytest.approx(report.end_range_deg)
    assert history[0].back_lifted_fraction == 1.0
    assert history[1].pain and not history[0].pain
    log.report_pain(pop=True, pain=False, note="felt a pop")
    assert TrainingLog(url).summaries()[-1].pop


def test_the_full_report_is_kept(url, report):
    log = TrainingLog(url)
    log.add_set(report, at=T0)
    with log.engine.connect() as c:
        stored = c.execute(text("SELECT report FROM sets")).scalar()
    data = stored if isinstance(stored, dict) else __import__("json").loads(stored)
    assert data["rep_count"] == report.rep_count and data["provenance"]["flatback_version"]


def test_cli_save_history_and_plan(url, tmp_path, demo):
    _, video, keypoints = demo
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", str(keypoints), "--no-video", "-o", str(tmp_path / "o"), "-q", "--save", "--db", url])
    assert result.exit_code == 0, result.output
    plot = tmp_path / "progress.png"
    result = runner.invoke(app, ["history", "--db", url, "--plot", str(plot)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "double leg lift" in result.output and plot.stat().st_size > 10_000
    result = runner.invoke(app, ["plan", "--db", url])
    assert result.exit_code == 0 and "Next session" in result.output
    assert "lifted" in result.output  # the demo's back lifts: the plan regresses


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["history", "--db", "postgresql://nobody:x@127.0.0.1:1/none"])
    assert result.exit_code == 6 and "Cannot open the training log" in result.output
