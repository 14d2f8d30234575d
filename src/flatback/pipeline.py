"""The analysis chain: source -> pose -> checks -> geometry -> signals -> reps -> assessment.

``analyze(path) -> Report`` is the library call; ``Analyzer`` keeps the intermediate
results (track, geometry, signals) for the outputs and for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


from flatback import __version__
from flatback.assessment import assess
from flatback.checks import check_track
from flatback.geometry import BodyGeometry, compute_body_geometry
from flatback.pose import PoseBackend
from flatback.report import Exercise, Provenance, Report, SourceInfo
from flatback.reps import Segmentation, segment_reps
from flatback.settings import Settings
from flatback.signals import SignalSet, compute_signals
from flatback.source import open_source, prefetch
from flatback.types import PoseTrack

# progress(done_s, total_s): called as frames are processed (total 0 when unknown)
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Analysis:
    """A finished analysis: the report and what it was computed from."""

    report: Report
    track: PoseTrack
    geometry: BodyGeometry
    signals: SignalSet
    segmentation: Segmentation


def is_keypoint_file(path: str | Path) -> bool:
    return str(path).lower().endswith(".npz")


class Analyzer:
    """Runs the chain with one set of settings. ``Analyzer(settings).run(path)``."""

    def __init__(self, settings: Settings | None = None, backend: PoseBackend | None = None):
        self.settings = settings or Settings()
        self._backend = backend

    def track(self, path: str | Path, progress: Progress | None = None) -> PoseTrack:
        """Pose of every frame of a video file, webcam index or keypoint file."""
        if is_keypoint_file(path):
            from flatback.source import check_readable_file

            return PoseTrack.from_keypoint_file(check_readable_file(path))
        source = open_source(
            path,
            truncated_fraction=self.settings.source.truncated_fraction,
            min_duration_s=self.settings.source.min_duration_s,
        )
        backend = self._backend
        if backend is None:
            from flatback.pose.mediapipe import MediaPipePose

            backend = MediaPipePose(self.settings.pose)
        frames = []
        total = source.info.duration_s
        try:
            for frame in prefetch(iter(source)):
                frames.append(backend(frame))
                if progress is not None:
                    progress(frame.t_s, total)
        finally:
            if self._backend is None:
                backend.close()
        return PoseTrack.from_frames(frames, source.info, backend.name)

    def analyze_track(self, track: PoseTrack) -> Analysis:
        """Everything after pose: checks, geometry, signals, reps, assessment."""
        s = self.settings
        warnings = check_track(track, s.checks, s.geometry)
        geometry = compute_body_geometry(track, s.geometry)
        warnings += geometry_warnings(geometry)
        if geometry.side_view_ratio > s.checks.front_view_ratio:
            from flatback.errors import VideoContentError

            raise VideoContentError(
                f"The camera sees the person from the front, head or feet (shoulder width is "
                f"{geometry.side_view_ratio:.2f} of the torso length; a side view gives under "
                f"{s.checks.front_view_ratio:.2f}). Film from the side, camera at floor height, "
                "whole body in frame."
            )
        signals = compute_signals(geometry, s.signals)
        segmentation = segment_reps(
            signals.t_s, signals.leg_angle_deg, signals.leg_speed_deg_s, s.reps, geometry.posture, signals.breaks
        )
        reps, partial, holds, cues = assess(segmentation, signals, s.assessment)
        info = track.info
        report = Report(
            source=SourceInfo(
                path=info.path,
                duration_s=float(track.t_s[-1]) if len(track) else 0.0,
                fps=info.fps,
                width=info.width,
                height=info.height,
                rotation_deg=info.rotation_deg,
                frames=len(track),
            ),
            exercise=Exercise(),
            rep_count=len(reps),
            quality_rep_count=sum(r.quality_rep for r in reps),
            reps=reps,
            partial_reps=partial,
            end_range_deg=None,
            holds=holds,
            cues=cues,
            warnings=warnings,
            provenance=Provenance(
                flatback_version=__version__,
                pose_backend=track.backend,
                settings=s.model_dump(),
                floor_line={
                    "roll_deg": geometry.floor.roll_deg,
                    "feet_sign": geometry.floor.feet_sign,
                    "source": geometry.floor.source,
                    "posture": geometry.posture,
                },
                rest=segmentation.rest,
                hysteresis_deg=segmentation.hysteresis_deg,
                coverage={
                    "pose": float(track.detected.mean()) if len(track) else 0.0,
                    "leg_angle": signals.coverage(),
                    "leg_angle_thigh_only": float((geometry.leg_source == 2).mean()),
                },
            ),
        )
        return Analysis(report, track, geometry, signals, segmentation)

    def run(self, path: str | Path, progress: Progress | None = None) -> Analysis:
        return self.analyze_track(self.track(path, progress))


def geometry_warnings(geometry: BodyGeometry) -> list[str]:
    """What the user should know about how the numbers were measured."""
    out = []
    thigh = float((geometry.leg_source == 2).mean())
    if thigh > 0.1:
        out.append(
            f"The feet were out of frame or hidden in {thigh:.0%} of frames; the leg angle "
            "there is the thigh's (hip to knee)."
        )
    cuts = geometry.t_s[geometry.cut]
    if len(cuts):
        out.append(
            f"The video cuts to another shot at {', '.join(f'{t:.1f}' for t in cuts[:5])} s; "
            "no rep is measured across a cut."
        )
    swaps = int(geometry.swapped.sum())
    if swaps:
        out.append(f"The pose model swapped left and right in {swaps} frame(s); they were swapped back.")
    if geometry.posture == "upright":
        out.append("The person is upright, not lying: leg angles are measured from hanging straight down.")
    return out


def analyze(path: str | Path, settings: Settings | None = None, *, progress: Progress | None = None, **overrides) -> Report:
    """Analyse a side-view video (or keypoint file) of leg lifts.

    ``overrides`` use ``section__key=value``, e.g. ``analyze("clip.mp4", reps__rest="top")``.
    Raises :class:`flatback.errors.FlatbackError` for input it cannot analyse.
    """
    settings = settings or Settings()
    if overrides:
        settings = settings.replace(**overrides)
    return Analyzer(settings).run(path, progress).report


__all__ = ["Analysis", "Analyzer", "analyze"]
