"""The ``flatback`` command: a thin layer over :func:`flatback.analyze`.

Only this module prints, exits and configures logging.
"""

from __future__ import annotations

import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="flatback: a leg-lift form coach. Film lying leg lifts from the side, get every rep measured.",
    pretty_exceptions_enable=False,
)


def _quiet_native_logs() -> None:
    # mediapipe's C++ and TFLite log to stderr at start-up; users need none of it
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null while native code runs (absl ignores the
    variables above); yields a text stream on the real stderr for our own progress bar."""
    if os.environ.get("FLATBACK_DEBUG"):
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    real = os.fdopen(os.dup(saved), "w")
    try:
        yield real
    finally:
        real.flush()
        real.close()
        os.dup2(saved, 2)
        os.close(saved)


def _fail(message: str, code: int) -> None:
    typer.echo(f"flatback: error: {message}", err=True)
    raise typer.Exit(code)


def _settings(config: Path | None, overrides: list[str], rest: str | None, exercise: str | None = None):
    from flatback.settings import Settings, parse_override

    pairs = dict(parse_override(o) for o in overrides)
    if rest:
        pairs["reps.rest"] = rest
    if exercise:
        pairs["recognition.exercise"] = exercise
    return Settings.load(config, pairs)


def _video_source(input: str, video: Path | None, analysed_path: str) -> Path | None:
    """The video to draw on: the input itself; for a keypoint file ``--video``, or the
    video it was made from if it is still there. A webcam is not re-read."""
    if video is not None:
        return video
    if input.isdigit() and not Path(input).exists():
        return None
    if input.lower().endswith(".npz"):
        return Path(analysed_path) if Path(analysed_path).is_file() else None
    return Path(input)


def _analyse_and_write(input: str, outdir: Path, settings, *, quiet: bool, no_video: bool = False,
                       video: Path | None = None, save_keypoints: bool = False, extra=None):
    """Run the analysis and write the output folder; bad input ends the program with a
    one-line message and its exit code. ``extra(analysis) -> {file: text}`` adds files."""
    from flatback.errors import FlatbackError
    from flatback.outputs.files import write_outputs
    from flatback.pipeline import Analyzer

    try:
        with _native_stderr_silenced() as stderr, _progress(quiet, stderr) as bar:
            analysis = Analyzer(settings).run(input, bar.phase("analysing"))
            source = None if no_video else _video_source(input, video, analysis.track.info.path)
            write_outputs(
                analysis, outdir, decimals=settings.output.decimals, save_keypoints=save_keypoints,
                extra=extra(analysis) if extra else None, video_source=source, progress=bar.phase("drawing video"),
            )
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written.", 130)
    except Exception as e:  # a bug, not bad input: say so briefly, details on request
        if os.environ.get("FLATBACK_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error ({type(e).__name__}: {e}). Re-run with FLATBACK_DEBUG=1 and report it.", 1)
    return analysis


# --- live webcam session: the count and cue in the terminal, full outputs at the end ---


def _is_webcam(input: str) -> bool:
    return input.isdigit() and not Path(input).exists()


def _live_backend(settings):
    """The pose model for live frames (a seam for tests, which replay a track instead)."""
    from flatback.pose.mediapipe import MediaPipePose

    return MediaPipePose(settings.pose)


def _live_text(state):
    """One line: count, phase, tempo count, back, cue."""
    from rich.text import Text

    back = state.back_state if state.back_state not in ("flat", "lifted") else (
        f"{state.back_state} ({state.clearance_ratio:.2f})"
    )
    line = Text()
    line.append(f"reps {state.rep_count} ({state.quality_rep_count} quality)", style="bold")
    line.append(f"  |  {state.phase:<7}")
    line.append(f"  |  count {state.tempo_count}" if state.tempo_count else "  |  count -")
    line.append(f"  |  back {back}", style="red" if state.back_state == "lifted" else None)
    if state.cue:
        line.append(f"\n{state.cue}", style="yellow")
    return line


@contextmanager
def _live_display(quiet: bool, stream):
    """A callback showing each LiveState on one refreshed line (rich Live)."""
    if quiet:
        yield lambda state: None
        return
    from rich.console import Console
    from rich.live import Live

    with Live(console=Console(file=stream), refresh_per_second=8) as live:
        yield lambda state: live.update(_live_text(state))


@contextmanager
def _stop_requests(stop):
    """Set ``stop`` (a threading.Event) on q + Enter or Ctrl-C while the block runs."""
    import signal
    import threading

    def read_keys() -> None:
        for line in sys.stdin:
            if line.strip().lower() == "q":
                stop.set()
                return

    threading.Thread(target=read_keys, daemon=True).start()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _live_and_write(input: str, outdir: Path, settings, *, duration: float | None, quiet: bool,
                    no_video: bool = False, save_keypoints: bool = False):
    """Run a live webcam session, then the full analysis of what it recorded into ``outdir``."""
    import tempfile
    import threading

    from flatback.errors import FlatbackError
    from flatback.io import source as sources
    from flatback.outputs.files import write_outputs
    from flatback.pipeline import Analyzer
    from flatback.pipeline.live import run_live_session

    stop = threading.Event()
    if not quiet:
        typer.echo("Live: q + Enter or Ctrl-C ends the set" + (f" (or after {duration:g} s)." if duration else "."))
    try:
        with tempfile.TemporaryDirectory(prefix="flatback-live-") as tmp, _native_stderr_silenced() as stderr:
            camera = sources.open_source(input)
            backend = _live_backend(settings)
            video = None if no_video else Path(tmp) / "session.mp4"
            last: list = []  # the latest LiveState
            try:
                with _stop_requests(stop), _live_display(quiet, stderr) as show:

                    def on_state(state) -> None:
                        show(state)
                        last[:] = [state]

                    recording = run_live_session(
                        iter(camera), backend, camera.info, settings, duration_s=duration, stop=stop.is_set,
                        on_state=on_state, record_to=video,
                    )
            finally:
                backend.close()
            if recording.track is None:
                _fail("no frames came from the camera; nothing was written.", 1)
                return
            if not quiet and last:
                typer.echo(f"Live: {last[-1].rep_count} reps counted ({last[-1].quality_rep_count} quality) "
                           f"in {last[-1].t_s:.1f} s; analysing the recording...")
            analysis = Analyzer(settings).analyze_track(recording.track)
            write_outputs(analysis, outdir, decimals=settings.output.decimals, save_keypoints=save_keypoints,
                          video_source=video)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    except Exception as e:  # a bug, not bad input: say so briefly, details on request
        if os.environ.get("FLATBACK_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error ({type(e).__name__}: {e}). Re-run with FLATBACK_DEBUG=1 and report it.", 1)
    return analysis


def _default_out(input: str, suffix: str) -> Path:
    return Path(f"{'camera' + input if input.isdigit() else Path(input).stem}_{suffix}")


@app.command()
def analyze(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT...", help="Video file, webcam index (0, 1...) or keypoint file (.npz). Several files or a folder (its videos, not sub-folders) make a batch.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [default: <name>_flatback]. For a batch: the folder that gets one <name>_flatback per video and summary.csv [default: beside each video; summary.csv here].")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file (see `flatback config --dump`).")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Override one setting: section.key=value (repeatable).")] = [],
    rest: Annotated[str | None, typer.Option("--rest", help="Where reps rest: auto, floor or top.")] = None,
    exercise: Annotated[str | None, typer.Option("--exercise", help="Force the exercise (e.g. double_leg_lift) instead of recognising it.")] = None,
    no_video: Annotated[bool, typer.Option("--no-video", help="Skip annotated.mp4 (and the report's video and key frames).")] = False,
    video: Annotated[Path | None, typer.Option("--video", help="With a keypoint file: the video to draw on.")] = None,
    save_keypoints: Annotated[bool, typer.Option("--save-keypoints", help="Also write keypoints.npz to re-run without the pose model.")] = False,
    save: Annotated[bool, typer.Option("--save", help="Add this set to your training log.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Training log URL (sqlite:///... or postgresql://...) [default: $FLATBACK_DB or your data folder].")] = None,
    pain: Annotated[bool, typer.Option("--pain", help="With --save: this set hurt.")] = False,
    pop: Annotated[bool, typer.Option("--pop", help="With --save: you felt a pop.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")] = False,
    duration: Annotated[float | None, typer.Option("--duration", help="Webcam: end the session after this many seconds (else q + Enter, or Ctrl-C).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Batch: analyse this many videos at once (processes).")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Batch: redo videos whose output folder is already complete.")] = False,
    ray: Annotated[str | None, typer.Option("--ray", help="Batch: run each video as a Ray task: auto (this machine's cluster, else a local one) or HEAD:6379. Needs flatback[cluster].")] = None,
) -> None:
    """Measure every rep in a side-view video of lying leg lifts (live from a webcam, or in a batch).

    Batch exit code: 0 when every video was analysed or skipped, else the largest exit
    code among the failed videos (3 unreadable file, 4 video content, 5 output, 1 internal).
    """
    _quiet_native_logs()
    from flatback.io.source import bound_heap

    bound_heap()  # a long video's memory stays flat
    from flatback.batch import is_batch
    from flatback.errors import FlatbackError

    try:
        settings = _settings(config, set_, rest, exercise)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    if is_batch(inputs, ray):
        if video is not None or save or pain or pop:
            _fail("--video, --save, --pain and --pop take one video at a time, not a batch.", 2)
        raise typer.Exit(_analyze_batch(inputs, out, settings, quiet=quiet, no_video=no_video,
                                        save_keypoints=save_keypoints, jobs=jobs, force=force, ray=ray))
    input = inputs[0]
    outdir = out or _default_out(input, "flatback")
    log = _log(db) if save or pain or pop else None  # a log that cannot be opened fails before the analysis
    if _is_webcam(input):
        analysis = _live_and_write(input, outdir, settings, duration=duration, quiet=quiet, no_video=no_video,
                                   save_keypoints=save_keypoints)
    else:
        analysis = _analyse_and_write(
            input, outdir, settings, quiet=quiet, no_video=no_video, video=video, save_keypoints=save_keypoints
        )
    if not quiet:
        _print_summary(analysis, outdir)
    if log is not None:
        from flatback.outputs.report import Report

        with _log_errors():
            session = log.add_set(Report.from_result(analysis), pain=pain, pop=pop)
        if not quiet:
            typer.echo(f"Saved to the training log (session {session}). See `flatback history` and `flatback plan`.")


def _analyze_batch(inputs: list[str], out: Path | None, settings, *, quiet: bool, no_video: bool,
                   save_keypoints: bool, jobs: int, force: bool, ray: str | None) -> int:
    """Several videos: one output folder each and summary.csv; returns the exit code."""
    from flatback.batch import Status, batch_exit_code, plan_jobs, run_batch, summary_path
    from flatback.errors import FlatbackError

    results = []
    summary = summary_path(out)
    try:
        planned = plan_jobs(inputs, out)
        with _native_stderr_silenced() as stderr, _batch_progress(quiet, stderr, len(planned)) as bar:
            results = run_batch(planned, settings, summary, n_jobs=jobs, ray_address=ray, force=force,
                                no_video=no_video, save_keypoints=save_keypoints, on_result=bar.advance)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail(f"interrupted; {summary} lists the videos finished so far.", 130)
    for r in results:
        if r.status is Status.FAILED:
            typer.echo(f"flatback: error: {r.video}: {r.error}", err=True)
    if not quiet:
        counts = {s: sum(r.status is s for r in results) for s in Status}
        typer.echo(f"{len(results)} videos: {counts[Status.OK]} analysed, {counts[Status.SKIPPED]} skipped "
                   f"(complete; --force redoes them), {counts[Status.FAILED]} failed. Wrote {summary}")
    return batch_exit_code(results)


class _batch_progress:
    """One rich progress bar over the batch's videos; silent when quiet or not a terminal.
    ``advance(result)`` counts one finished video."""

    def __init__(self, quiet: bool, stream, total: int):
        self.quiet = quiet or not stream.isatty()
        self.stream, self.total, self.failed = stream, total, 0

    def __enter__(self):
        if not self.quiet:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TimeRemainingColumn(), transient=True, console=Console(file=self.stream))
            self._bar.start()
            self._task = self._bar.add_task("videos", total=self.total)
        return self

    def advance(self, result) -> None:
        if self.quiet:
            return
        self.failed += result.status.value == "failed"
        self._bar.update(self._task, advance=1, description=f"videos ({self.failed} failed)" if self.failed else "videos")

    def __exit__(self, *exc) -> None:
        if not self.quiet:
            self._bar.stop()


@contextmanager
def _log_errors():
    """The training log's failures (exit 6) and the plot's (exit 5): one line, no traceback."""
    from flatback.errors import FlatbackError

    try:
        yield
    except FlatbackError as e:
        _fail(str(e), e.exit_code)


def _log(db: str | None):
    from flatback.log.history import TrainingLog

    with _log_errors():
        return TrainingLog(db)


@app.command()
def history(
    db: Annotated[str | None, typer.Option("--db", help="Training log URL [default: $FLATBACK_DB or your data folder].")] = None,
    plot: Annotated[Path, typer.Option("--plot", help="Where to write the progress plot (PNG).")] = Path("flatback_progress.png"),
) -> None:
    """Your sessions as a table, and a plot of end range and quality reps over time."""
    from rich.console import Console
    from rich.table import Table

    from flatback.log.history import plot_progress

    with _log_errors():
        sessions = _log(db).summaries()
    if not sessions:
        typer.echo("The training log is empty: save a set with `flatback analyze VIDEO --save`.")
        return
    table = Table(title=f"{len(sessions)} session(s)")
    for col in ("date", "exercise", "sets", "reps", "quality", "end range deg", "back lifted", "down s", "pain/pop"):
        table.add_column(col)
    for h in sessions:
        table.add_row(
            f"{h.started_at:%Y-%m-%d %H:%M}", h.exercise.replace("_", " "), str(h.sets), str(h.reps), str(h.quality_reps),
            "-" if h.end_range_deg is None else f"{h.end_range_deg:.0f}", f"{h.back_lifted_fraction:.0%}",
            "-" if h.median_descent_s is None else f"{h.median_descent_s:.1f}",
            "pop" if h.pop else "pain" if h.pain else "-",
        )
    Console().print(table)
    with _log_errors():
        typer.echo(f"Wrote {plot_progress(sessions, plot)}")


@app.command()
def plan(
    db: Annotated[str | None, typer.Option("--db", help="Training log URL [default: $FLATBACK_DB or your data folder].")] = None,
) -> None:
    """Your next session: variation, sets x reps, tempo and pause, from your history."""
    from flatback.coach.plan import plan_next

    with _log_errors():
        sessions = _log(db).summaries()
    typer.echo(plan_next(sessions).text())


@app.command("log")
def log_feeling(
    pain: Annotated[bool, typer.Option("--pain", help="The last session hurt.")] = False,
    pop: Annotated[bool, typer.Option("--pop", help="You felt a pop in the last session.")] = False,
    note: Annotated[str, typer.Option("--note", help="A note for the last session.")] = "",
    db: Annotated[str | None, typer.Option("--db", help="Training log URL.")] = None,
) -> None:
    """Tell the log how the last session felt (pain, a pop): the plan regresses on it."""
    with _log_errors():
        session = _log(db).report_pain(pain=pain, pop=pop, note=note)
    typer.echo(f"Noted on session {session}.")


class _progress:
    """Rich progress bars over the video's duration, one per phase; silent when quiet or
    not a terminal. ``phase(label)`` returns the ``progress(done_s, total_s)`` callback."""

    def __init__(self, quiet: bool, stream):
        self.quiet = quiet or not stream.isatty()
        self.stream = stream

    def __enter__(self):
        if not self.quiet:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.1f} s of video"),
                TimeRemainingColumn(), transient=True, console=Console(file=self.stream),
            )
            self._bar.start()
        return self

    def phase(self, label: str):
        if self.quiet:
            return None
        task = self._bar.add_task(label, total=None)

        def update(done_s: float, total_s: float) -> None:
            self._bar.update(task, completed=done_s, total=total_s or None)

        return update

    def __exit__(self, *exc) -> None:
        if not self.quiet:
            self._bar.stop()


def _print_summary(analysis, outdir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ex = analysis.exercise
    console.print(f"Exercise: {ex.name.replace('_', ' ')} ({'forced' if ex.forced else f'confidence {ex.confidence:.2f}'})")
    if analysis.measured is None:
        for n in analysis.notes:
            console.print(f"[yellow]{n.text}[/yellow]")
        return
    table = Table(title=f"{analysis.rep_count} reps, {analysis.quality_rep_count} quality ({Path(analysis.track.info.path).name})")
    for col in ("rep", "bottom s", "down s", "up s", "pause bottom s", "pause top s", "min deg", "max deg", "momentum", "faults"):
        table.add_column(col)
    for r in analysis.reps:
        table.add_row(
            str(r.index) + (f" {r.side.value}" if r.side else ""), f"{r.bottom_s:.2f}", f"{r.descent_s:.1f}",
            f"{r.ascent_s:.1f}", f"{r.pause_bottom_s:.1f}", f"{r.pause_top_s:.1f}", f"{r.min_leg_angle_deg:.0f}",
            f"{r.max_leg_angle_deg:.0f}", ", ".join(r.momentum_reasons) or "no", ", ".join(r.faults) or "-",
        )
    console.print(table)
    if analysis.partial_reps:
        console.print(f"{len(analysis.partial_reps)} partial rep(s) cut off by the clip, not counted.")
    for h in analysis.holds:
        console.print(f"Hold {h.start_s:.1f}-{h.end_s:.1f} s ({h.duration_s:.1f} s) at {h.mean_leg_angle_deg:.0f} deg.")
    if analysis.cues:
        console.print(f"[bold]Cue:[/bold] {analysis.cues[0].text}")
    for n in analysis.notes:
        console.print(f"[yellow]note:[/yellow] {n.text}")
    written = sorted(p.name for p in outdir.iterdir()) if outdir.is_dir() else []
    console.print(f"Wrote {outdir}/: {', '.join(written)}")


@app.command("test")
def end_range_test(
    input: Annotated[str, typer.Argument(help="Video of the test (or webcam index, or keypoint file).")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output folder [default: <name>_flatback_test].")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Override one setting: section.key=value (repeatable).")] = [],
    no_video: Annotated[bool, typer.Option("--no-video", help="Skip annotated.mp4.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No guidance, progress bar or summary.")] = False,
) -> None:
    """The end-range test (double-leg-lowering test): at which leg angle your lower back lifts."""
    _quiet_native_logs()
    from flatback.coach.end_range_test import PROTOCOL, evaluate
    from flatback.errors import FlatbackError
    from flatback.outputs.files import json_text

    if not quiet:
        typer.echo("The end-range test. Film it like this:")
        for k, step in enumerate(PROTOCOL, start=1):
            typer.echo(f"  {k}. {step}")
        typer.echo("")
    try:
        settings = _settings(config, set_, None)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    outdir = out or _default_out(input, "flatback_test")

    def result(analysis):
        return evaluate(analysis.reps, analysis.notes, settings.end_range_test)

    def test_json(analysis) -> dict[str, str]:
        return {"test.json": json_text(result(analysis), settings.output.decimals)}

    analysis = _analyse_and_write(input, outdir, settings, quiet=quiet, no_video=no_video, extra=test_json)
    if not quiet:
        _print_test(result(analysis), outdir)


def _print_test(result, outdir: Path) -> None:
    for t in result.tries:
        value = "-" if t.result_deg is None else f"{t.result_deg:.0f} deg"
        typer.echo(f"  try {t.index}: {value} ({t.how})")
    if result.end_range_deg is None:
        typer.echo(f"No end range: {result.confidence_reason}.")
    else:
        bound = "at or below " if result.at_or_below else ""
        typer.echo(
            f"Your end range: {bound}{result.end_range_deg:.0f} deg (lower is better); "
            f"confidence {result.confidence}: {result.confidence_reason}."
        )
        for line in result.comparison:
            typer.echo(f"  {line}")
    typer.echo(f"Wrote {outdir}/: {', '.join(sorted(p.name for p in outdir.iterdir()))}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Other than 127.0.0.1 (e.g. 0.0.0.0 for a phone on your network) needs the token printed at start.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")] = 8000,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the page in the browser.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Training log URL [default: $FLATBACK_DB or your data folder].")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Folder for the saved sets' and uploads' reports [default: your data folder, flatback/web].")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings file.")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Override one setting: section.key=value (repeatable).")] = [],
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS certificate (PEM) for HTTPS: a phone's browser gives the camera only over HTTPS.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS private key (PEM) for --cert.")] = None,
) -> None:
    """Live coaching in the browser: the camera, the count and the coach's voice; uploads; history and plan."""
    _quiet_native_logs()
    from flatback.errors import FlatbackError
    from flatback.web.server import is_loopback, serve

    try:
        settings = _settings(config, set_, None)
        with _log_errors():
            _log(db)  # a log that cannot be opened fails now, not at the first saved set

        def ready(url: str) -> None:
            typer.echo(f"flatback serve: {url}", err=False)
            if not is_loopback(host):
                typer.echo("Listening beyond this computer: the address above carries the access token; "
                           "share it only with your own devices. A phone's browser needs HTTPS for the camera (--cert/--key).")
            typer.echo("Ctrl-C stops the server.")
            sys.stdout.flush()
            if not no_browser:
                import webbrowser

                webbrowser.open(url)

        serve(settings, host=host, port=port, data_dir=data, db_url=db, ssl_certfile=cert, ssl_keyfile=key, on_ready=ready)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)


@app.command("config")
def config_cmd(
    dump: Annotated[bool, typer.Option("--dump", help="Print every setting as a commented TOML template.")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="Show this file merged over the defaults.")] = None,
) -> None:
    """Show the settings (every threshold, its unit and why)."""
    from flatback.errors import FlatbackError
    from flatback.settings import Settings, dump_toml_template

    try:
        settings = Settings.load(config)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    if not dump and config is None:
        typer.echo("Use --dump to print the settings template.")
        return
    typer.echo(dump_toml_template(settings))


@app.command("eval")
def eval_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with the clips and labels.json (see ../shared/clips/LABELS.md).")],
    augment: Annotated[bool, typer.Option("--augment", help="Also score every clip re-filmed as phones film it (mirror, roll, 480p15, portrait, oblique, dim, captions).")] = False,
    transform: Annotated[list[str], typer.Option("--transform", help="Only this transform (repeatable; implies --augment): one of --augment's, or roll+20, roll-20, oblique40, rollblack+12, rollfill-12 (straightened and zoomed to fill), blurfill (9:16 over a blurred copy), portraitblack (9:16 between black bars), blocky (360p, heavily compressed).")] = [],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the tables as JSON here.")] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Pose-track cache folder [default: ~/.cache/flatback/eval].")] = None,
    only: Annotated[list[str], typer.Option("--only", help="Only this clip (file name or stem; repeatable).")] = [],
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Processes running pose in parallel.")] = 1,
    set_: Annotated[list[str], typer.Option("--set", help="Score with this setting changed: section.key=value (repeatable), e.g. pose.max_rate_hz=0.")] = [],
) -> None:
    """Score flatback against hand-labelled clips: rep count, recognition, timing, angles, back lift."""
    _quiet_native_logs()
    import json

    from rich.console import Console

    from flatback import evaluate as ev
    from flatback.errors import FlatbackError

    try:
        refilms = ev.refilm_named(transform) if transform else ev.REFILMS if augment else ()
    except KeyError as e:
        _fail(str(e.args[0]), 2)
    try:
        settings = _settings(None, set_, None)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    try:
        with _native_stderr_silenced() as stderr:
            from rich.progress import Progress

            with Progress(console=Console(file=stderr), transient=True, disable=not stderr.isatty()) as bar:
                task = bar.add_task("eval", total=None)

                def progress(done: int, total: int, what: str) -> None:
                    bar.update(task, completed=done, total=total, description=f"{what}")

                result = ev.evaluate_folder(folder, refilms=refilms, cache=cache or ev.DEFAULT_CACHE,
                                            only=tuple(only), jobs=jobs, progress=progress, settings=settings)
    except FlatbackError as e:
        _fail(str(e), e.exit_code)
    except Exception as e:  # a bug in the instrument itself (per-clip crashes are listed in the tables)
        if os.environ.get("FLATBACK_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error ({type(e).__name__}: {e}). Re-run with FLATBACK_DEBUG=1 and report it.", 1)
    console = Console(width=None if sys.stdout.isatty() else 220)
    for table in ev.all_tables(result):
        console.print(table)
    if json_out is not None:
        try:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(ev.result_json(result), indent=1))
        except OSError as e:
            _fail(f"Cannot write {json_out}: {e.strerror}. Choose another path with --json.", 5)
        console.print(f"Wrote {json_out}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
