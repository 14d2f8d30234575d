"""The analysis chain: source -> pose -> checks -> geometry -> signals -> reps -> assessment.

``analyze(path) -> Report`` is the library call; ``Analyzer`` keeps the intermediate
results (track, geometry, signals) for the outputs and for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


from flatback import __version__
import numpy as np

from flatback.analyse.assessment import assess
from flatback.analyse.backlift import BackTrack, session_end_range, track_back
from flatback.measure.checks import check_in_frame, check_people, check_view
from flatback.measure.clearance import Clearance, ClearanceStatus, compute_clearance
from flatback.analyse.recognize import recognize
from flatback.analyse.variations import ONE_SIDE_AT_A_TIME, apply_variation, reps_per_side
from flatback.measure.geometry import BodyGeometry, compute_body_geometry
from flatback.pose import PoseBackend
from flatback.outputs.report import BackBaseline, Exercise, Provenance, Report, SourceInfo
from flatback.analyse.reps import Segmentation, segment_reps
from flatback.settings import Settings
from flatback.measure.signals import SignalSet, compute_signals
from flatback.io.source import check_readable_file, open_source, prefetch
from flatback.types import PoseTrack

# progress(done_s, total_s): called as frames are processed (total 0 when unknown)
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Analysis:
    """A finished analysis: the report and what it was computed from."""

    report: Report
    track: PoseTrack
    # None when the clip is not a leg lift (the analysis stops at recognition)
    geometry: BodyGeometry | None
    signals: SignalSet | None
    segmentation: Segmentation | None
    clearance: Clearance | None
    back: BackTrack | None


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
        check_people(track, s.checks)
        check_view(track, s.checks)
        recognition = recognize(track)
        exercise = Exercise(name=recognition.name, confidence=round(recognition.confidence, 3))
        if s.recognition.exercise != "auto":
            exercise = Exercise(name=s.recognition.exercise, confidence=1.0)
        if exercise.name == "not_leg_lift":
            return not_leg_lift_analysis(track, exercise, recognition.reason)
        warnings = check_in_frame(track, s.checks, s.geometry)
        geometry = compute_body_geometry(track, s.geometry)
        warnings += geometry_warnings(geometry)
        signals = compute_signals(geometry, s.signals)
        segmentation = segment_reps(
            signals.t_s, signals.leg_angle_deg, signals.leg_speed_deg_s, s.reps, geometry.posture, signals.breaks
        )
        clearance = compute_clearance(track, geometry, s.clearance)
        back = track_back(signals.t_s, clearance, signals.leg_angle_deg, geometry.torso_length_px, s.back_lift)
        warnings += clearance_warnings(clearance, back)
        reps, partial, holds, cues = assess(segmentation, signals, s.assessment, back, s.back_lift)
        if exercise.name in ONE_SIDE_AT_A_TIME:
            reps, partial, cues = reps_per_side(exercise.name, track, geometry, signals, back, s)
        end_range, end_range_method = session_end_range(reps)
        reps, holds, cues, extra = apply_variation(exercise.name, reps, holds, cues, geometry, signals, s.recognition)
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
            exercise=exercise,
            rep_count=len(reps),
            quality_rep_count=sum(r.quality_rep for r in reps),
            reps=reps,
            partial_reps=partial,
            end_range_deg=end_range,
            end_range_method=end_range_method,
            back_baseline=None if back.baseline is None else BackBaseline(
                clearance_ratio=back.baseline.clearance_ratio, noise_ratio=back.baseline.noise_ratio,
                margin_ratio=back.baseline.margin_ratio, source=back.baseline.source,
            ),
            camera_elevation_deg=_finite_or_none(clearance.camera_elevation_deg),
            holds=holds,
            cues=cues,
            warnings=warnings,
            variation=extra,
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
                    "lumbar_clearance": float(np.isfinite(clearance.ratio).mean()) if len(track) else 0.0,
                },
            ),
        )
        return Analysis(report, track, geometry, signals, segmentation, clearance, back)

    def run(self, path: str | Path, progress: Progress | None = None) -> Analysis:
        return self.analyze_track(self.track(path, progress))


def not_leg_lift_analysis(track: PoseTrack, exercise: Exercise, reason: str) -> Analysis:
    """An analysis that stops at recognition: no leg-lift verdicts for other exercises."""
    info = track.info
    message = (
        f"This does not look like a leg lift ({reason}). flatback measures lying leg lifts and their "
        "variations; nothing else was measured. If it is one, say which with --exercise."
    )
    report = Report(
        source=SourceInfo(path=info.path, duration_s=float(track.t_s[-1]) if len(track) else 0.0, fps=info.fps,
                          width=info.width, height=info.height, rotation_deg=info.rotation_deg, frames=len(track)),
        exercise=exercise, rep_count=0, reps=[], end_range_method="not a leg lift", warnings=[message],
    )
    return Analysis(report, track, None, None, None, None, None)


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


def clearance_warnings(clearance: Clearance, back: BackTrack) -> list[str]:
    """Why the lower back could not be seen, and what to change when filming."""
    out = []
    lying = clearance.status != ClearanceStatus.NOT_LYING
    if not lying.any():
        return out
    counts = {st: float((clearance.status[lying] == st).mean()) for st in ClearanceStatus}
    if counts[ClearanceStatus.CAMERA_HIGH] > 0.5:
        out.append(
            f"The camera looks down on you ({clearance.camera_elevation_deg:.0f} deg above the floor): the gap "
            "under the lower back is out of sight. Put the camera at floor height."
        )
    if counts[ClearanceStatus.ARM] > 0.3:
        out.append(
            f"An arm lying beside the body hides the lower back in {counts[ClearanceStatus.ARM]:.0%} of frames. "
            "Put the arms overhead on the floor, or the hands under the glutes."
        )
    if counts[ClearanceStatus.RAGGED_MASK] > 0.3:
        out.append("The outline under the lower back is ragged (loose clothing?): wear fitted clothes.")
    if back.baseline is not None and not back.baseline.source.startswith("legs above"):
        out.append("The legs never came up to vertical, so the flat-back level is estimated from the lowest readings.")
    return out


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


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
