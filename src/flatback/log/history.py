"""The training log: sessions, sets and reps, kept so progress shows.

SQLAlchemy over SQLite by default (a file in the user's data directory), PostgreSQL
when given a URL (``--db`` or the ``FLATBACK_DB`` environment variable). The schema is
managed by Alembic migrations shipped in ``flatback/log/migrations``: opening a log brings
it up to date, so a user's history survives upgrades.

One ``flatback analyze --save`` is one set; sets less than ``SESSION_GAP_H`` apart
belong to the same session (a day's training).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from flatback.coach.plan import SessionSummary
from flatback.errors import FlatbackError
from flatback.outputs.report import Report

SESSION_GAP_H = 3.0  # sets further apart than this, h, start a new session


class HistoryError(FlatbackError):
    exit_code = 6


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    pain: Mapped[bool] = mapped_column(Boolean, default=False)
    pop: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    sets: Mapped[list[SetRow]] = relationship(back_populates="session", order_by="SetRow.index", cascade="all, delete-orphan")


class SetRow(Base):
    __tablename__ = "sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(1024))
    exercise: Mapped[str] = mapped_column(String(40))
    rep_count: Mapped[int] = mapped_column(Integer)
    quality_rep_count: Mapped[int] = mapped_column(Integer)
    end_range_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_range_method: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict] = mapped_column(JSON)  # the whole report.json, provenance included
    session: Mapped[SessionRow] = relationship(back_populates="sets")
    reps: Mapped[list[RepRow]] = relationship(back_populates="set", order_by="RepRow.index", cascade="all, delete-orphan")


class RepRow(Base):
    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("sets.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    descent_s: Mapped[float] = mapped_column(Float)
    ascent_s: Mapped[float] = mapped_column(Float)
    pause_bottom_s: Mapped[float] = mapped_column(Float)
    min_leg_angle_deg: Mapped[float] = mapped_column(Float)
    max_leg_angle_deg: Mapped[float] = mapped_column(Float)
    back_state: Mapped[str] = mapped_column(String(12))
    onset_leg_angle_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_range_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    momentum: Mapped[bool] = mapped_column(Boolean)
    quality_rep: Mapped[bool] = mapped_column(Boolean)
    set: Mapped[SetRow] = relationship(back_populates="reps")


def default_url() -> str:
    """``FLATBACK_DB`` if set, else SQLite in the user's data directory."""
    if os.environ.get("FLATBACK_DB"):
        return os.environ["FLATBACK_DB"]
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'flatback' / 'history.db'}"


def migrate(engine: Engine) -> None:
    """Bring the database schema up to date with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class TrainingLog:
    """The log at a database URL. ``TrainingLog(url).add_set(report)``."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if self.url.startswith("postgresql://"):
            self.url = "postgresql+psycopg://" + self.url.removeprefix("postgresql://")
        try:
            self.engine = create_engine(self.url)
            migrate(self.engine)
        except (SQLAlchemyError, OSError) as e:
            raise HistoryError(f"Cannot open the training log at {self.url}: {str(e).splitlines()[0]}") from None

    def add_set(self, report: Report, *, at: datetime | None = None, pain: bool = False, pop: bool = False) -> int:
        """Save one analysed set; returns its session's id."""
        at = at or datetime.now(UTC)
        with Session(self.engine) as db:
            last = db.scalars(select(SessionRow).order_by(SessionRow.started_at.desc()).limit(1)).first()
            if last is None or at - _aware(last.started_at) > timedelta(hours=SESSION_GAP_H):
                last = SessionRow(started_at=at)
                db.add(last)
                db.flush()
            last.pain |= pain
            last.pop |= pop
            row = SetRow(
                session_id=last.id, index=len(last.sets) + 1, recorded_at=at, source=report.source.path,
                exercise=report.exercise.name, rep_count=report.rep_count, quality_rep_count=report.quality_rep_count,
                end_range_deg=report.end_range_deg, end_range_method=report.end_range_method,
                report=report.model_dump(mode="json"),
            )
            row.reps = [
                RepRow(
                    index=r.index, descent_s=r.descent_s, ascent_s=r.ascent_s, pause_bottom_s=r.pause_bottom_s,
                    min_leg_angle_deg=r.min_leg_angle_deg, max_leg_angle_deg=r.max_leg_angle_deg,
                    back_state=r.back_lift.state, onset_leg_angle_deg=r.back_lift.onset_leg_angle_deg,
                    end_range_deg=r.end_range_deg, momentum=r.momentum, quality_rep=r.quality_rep,
                )
                for r in report.reps
            ]
            db.add(row)
            db.commit()
            return last.id

    def report_pain(self, *, pain: bool = True, pop: bool = False, note: str = "") -> int:
        """Mark the latest session with pain (or a pop); returns its id."""
        with Session(self.engine) as db:
            last = db.scalars(select(SessionRow).order_by(SessionRow.started_at.desc()).limit(1)).first()
            if last is None:
                raise HistoryError("The training log is empty: save a set first (flatback analyze VIDEO --save).")
            last.pain |= pain
            last.pop |= pop
            last.notes = (last.notes + "\n" + note).strip()
            db.commit()
            return last.id

    def summaries(self) -> list[SessionSummary]:
        """Every session, oldest first, summarised for the planner and the history table."""
        with Session(self.engine) as db:
            rows = db.scalars(select(SessionRow).order_by(SessionRow.started_at)).all()
            return [summarise(r) for r in rows]


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def summarise(row: SessionRow) -> SessionSummary:
    """One session as the planner sees it."""
    import numpy as np

    reps = [r for s in row.sets for r in s.reps]
    ranges = [s.end_range_deg for s in row.sets if s.end_range_deg is not None]
    exercises = [s.exercise for s in row.sets]
    return SessionSummary(
        started_at=_aware(row.started_at),
        exercise=max(set(exercises), key=exercises.count) if exercises else "unknown",
        sets=len(row.sets),
        reps=sum(s.rep_count for s in row.sets),
        quality_reps=sum(s.quality_rep_count for s in row.sets),
        max_reps_in_a_set=max((s.rep_count for s in row.sets), default=0),
        end_range_deg=float(np.median(ranges)) if ranges else None,
        back_lifted_fraction=float(np.mean([r.back_state == "lifted" for r in reps])) if reps else 0.0,
        median_descent_s=float(np.median([r.descent_s for r in reps])) if reps else None,
        pause_bottom_s=float(np.median([r.pause_bottom_s for r in reps])) if reps else None,
        pain=row.pain,
        pop=row.pop,
    )


def plot_progress(history: list[SessionSummary], path: Path) -> Path:
    """A PNG of end range and quality reps per session over time (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    dates = [h.started_at for h in history]
    ranged = [(h.started_at, h.end_range_deg) for h in history if h.end_range_deg is not None]
    if ranged:
        ax.plot(*zip(*ranged), "o-", color="#d62728", label="end range, deg (lower is better)")
    ax.set_ylabel("end range, deg")
    bx = ax.twinx()
    quality = [h.quality_reps for h in history]
    bx.bar(dates, quality, width=0.6, alpha=0.3, color="#2e9e4f", label="quality reps")  # type: ignore[arg-type]
    bx.set_ylabel("quality reps")
    for h in history:
        if h.pain or h.pop:
            ax.annotate("pop" if h.pop else "pain", (h.started_at, ax.get_ylim()[1]), color="k", fontsize=8, ha="center")
    ax.set_title("Progress: end range and quality reps per session", fontsize=10)
    handles = ax.get_legend_handles_labels()[0] + bx.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + bx.get_legend_handles_labels()[1]
    ax.legend(handles, labels, fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    try:
        fig.savefig(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    return path
