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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from flatback.coach.plan import SessionSummary
from flatback.errors import FlatbackError, OutputError
from flatback.outputs.report import Report

SESSION_GAP_H = 3.0  # sets further apart than this, h, start a new session


SQLITE_BUSY_TIMEOUT_S = 15.0  # how long a save waits for another process holding the SQLite log, s
_PG_MIGRATE_LOCK = 0x666C6174  # pg_advisory_xact_lock key: one migration at a time ("flat")


class HistoryError(FlatbackError):
    """The training log cannot be opened, read or written (exit code 6)."""

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


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


def _needs_upgrade(connection) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_alembic_config(connection)).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()) != heads


def migrate(engine: Engine) -> None:
    """Bring the database schema up to date with the Alembic migrations.

    Up-to-date logs are only read. Otherwise the upgrade runs in one transaction that
    holds the write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so two
    processes opening a new log at once do not both create it, and a process killed
    half-way leaves the log as it was.
    """
    from alembic import command

    with engine.connect() as connection:
        if not _needs_upgrade(connection):
            return
    with _writer(engine).begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
        command.upgrade(_alembic_config(connection), "head")


def _writer(engine: Engine) -> Engine:
    """The engine whose SQLite transactions take the write lock at BEGIN (read-modify-write safe)."""
    return engine.execution_options(flatback_begin="BEGIN IMMEDIATE")


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLite transactions cover DDL and reads too (pysqlite begins only before DML
    by default): the documented SQLAlchemy recipe, with BEGIN IMMEDIATE for writers."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql(connection.get_execution_options().get("flatback_begin", "BEGIN"))


def _parse_url(raw: str) -> URL:
    """A SQLAlchemy URL for SQLite or PostgreSQL (``postgres://`` and ``postgresql://``
    use psycopg 3, which flatback ships); anything else is a :class:`HistoryError`."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise HistoryError(
            f"Cannot open the training log: {raw!r} is not a database URL. Use sqlite:///path/to/history.db "
            "or postgresql://user:password@host/database."
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url
    raise HistoryError(
        f"Cannot open the training log at {_shown(url)}: the database {url.drivername!r} is not supported. "
        "Use SQLite (sqlite:///path/to/history.db) or PostgreSQL (postgresql://user:password@host/database)."
    )


def _shown(url: URL | str) -> str:
    """The URL as it may be printed: without its password."""
    return url.render_as_string(hide_password=True) if isinstance(url, URL) else str(url)


def _first_line(e: BaseException) -> str:
    if isinstance(e, (FileExistsError, NotADirectoryError)) and e.filename:
        return f"{e.filename} is a file, not a folder"
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename else e.strerror
    lines = [line.strip() for line in str(getattr(e, "orig", None) or e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


class TrainingLog:
    """The log at a database URL. ``TrainingLog(url).add_set(report)``."""

    def __init__(self, url: str | None = None):
        raw = url or default_url()
        parsed = _parse_url(raw)
        self.url = _shown(make_url(raw))
        with self._errors("open"):
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            connect_args = {}
            if parsed.get_backend_name() == "sqlite" and "timeout" not in parsed.query:
                connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
            if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = 10
            self.engine = create_engine(parsed, connect_args=connect_args)
            if parsed.get_backend_name() == "sqlite":
                _sqlite_transactions(self.engine)
            migrate(self.engine)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database and file-system failures become one-line :class:`HistoryError` messages."""
        try:
            yield
        except HistoryError:
            raise
        except (SQLAlchemyError, OSError, ImportError) as e:
            reason = _first_line(e)
            hint = ""
            if "locked" in reason:
                hint = " Another flatback may be saving: try again in a moment."
            elif "not a database" in reason or "malformed" in reason:
                hint = " The file is damaged or not a flatback log: move it aside to start a new log."
            elif "unable to open" in reason or isinstance(e, OSError) or "readonly" in reason:
                hint = " Check that the folder exists and you may write to it, or give another --db."
            elif "connection" in reason.lower() or "could not" in reason.lower():
                hint = " Is the database server running and the URL right?"
            raise HistoryError(f"Cannot {doing} the training log at {self.url}: {reason}.{hint}") from None

    def add_set(self, report: Report, *, at: datetime | None = None, pain: bool = False, pop: bool = False) -> int:
        """Save one analysed set; returns its session's id."""
        at = at or datetime.now(UTC)
        with self._errors("save to"), Session(_writer(self.engine)) as db:
            if self.engine.dialect.name == "postgresql":  # one save at a time: session grouping reads then writes
                db.execute(text("LOCK TABLE sessions IN SHARE ROW EXCLUSIVE MODE"))
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
        with self._errors("write to"), Session(_writer(self.engine)) as db:
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
        with self._errors("read"), Session(self.engine) as db:
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
    except OSError as e:
        raise OutputError(f"Cannot write the plot {path}: {e.strerror or e}. Choose another file with --plot.") from None
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    return path
