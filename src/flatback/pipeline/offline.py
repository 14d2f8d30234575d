"""The offline analysis: source -> pose -> checks -> geometry -> signals -> variation -> coach.

``Analyzer(settings).run(path) -> Analysis`` keeps every stage's result (typed domain
results, not the wire format); ``outputs/report.py`` serialises it. The variation is
chosen before segmentation (recognised, or forced by ``recognition.exercise``), and
its registry entry segments and assesses the clip once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flatback.analyse.assessment import setup_back_not_flat
from flatback.analyse.backlift import BackTrack, session_end_range, track_back
from flatback.analyse.recognize import recognize
from flatback.analyse.results import (
    AssessedRep,
    Baseline,
    EndRange,
    EndRangeMethod,
    Exercise,
    ExerciseChoice,
    Hold,
    HollowHoldExtras,
    PartialRep,
    Rest,
    VariationExtras,
)
from flatback.analyse.variations import Variation, variation_for
from flatback.coach.cues import Cue, CueCode, make_cue, session_cues
from flatback.errors import VideoContentError
from flatback.io.source import Webcam, check_readable_file, open_source, prefetch
from flatback.measure.checks import check_in_frame, check_people, check_view, trim_to_person
from flatback.measure.clearance import Clearance, ClearanceStatus, compute_clearance
from flatback.measure.geometry import BodyGeometry, LegSource, compute_body_geometry
from flatback.measure.people import associate, choose_exerciser
from flatback.measure.shots import exercise_only, find_shots, skipped_notes, track_cuts
from flatback.measure.signals import SignalSet, compute_signals
from flatback.measure.view import picture_error_deg
from flatback.pipeline.frames import FrameTable, frame_table
from flatback.pose import PoseBackend
from flatback.pose.sampling import fill_between, sampled, sampler_for
from flatback.settings import GeometrySettings, Settings
from flatback.types import Note, NoteCode, PoseTrack

# progress(done_s, total_s): called as frames are processed (total 0 when unknown)
Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Measured:
    """The per-frame stages of a measured clip (None for a clip that is not a leg lift)."""

    geometry: BodyGeometry
    signals: SignalSet
    clearance: Clearance
    back: BackTrack
    frames: FrameTable


@dataclass(frozen=True)
class Analysis:
    """A finished analysis: the domain results and what they were computed from."""

    track: PoseTrack
    settings: Settings
    exercise: ExerciseChoice
    variation: Variation
    reps: list[AssessedRep]
    partial_reps: list[PartialRep]
    holds: list[Hold]
    end_range: EndRange
    cues: list[Cue]
    notes: list[Note]
    extras: VariationExtras | None = None
    rest: Rest | None = None
    hysteresis_deg: float | None = None
    measured: Measured | None = None

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def quality_rep_count(self) -> int:
        return sum(r.quality_rep for r in self.reps)

    @property
    def baseline(self) -> Baseline | None:
        return None if self.measured is None else self.measured.back.baseline

    # the per-frame stages, read through the analysis
    @property
    def geometry(self) -> BodyGeometry | None:
        return None if self.measured is None else self.measured.geometry

    @property
    def signals(self) -> SignalSet | None:
        return None if self.measured is None else self.measured.signals

    @property
    def clearance(self) -> Clearance | None:
        return None if self.measured is None else self.measured.clearance

    @property
    def back(self) -> BackTrack | None:
        return None if self.measured is None else self.measured.back

    @property
    def frames(self) -> FrameTable | None:
        return None if self.measured is None else self.measured.frames


def is_keypoint_file(path: str | Path) -> bool:
    return str(path).lower().endswith(".npz")


class Analyzer:
    """Runs the chain with one set of settings. ``Analyzer(settings).run(path)``."""

    def __init__(self, settings: Settings | None = None, backend: PoseBackend | None = None):
        self.settings = settings or Settings()
        self._backend = backend

    def track(self, path: str | Path, progress: Progress | None = None) -> PoseTrack:
        """Pose of the exerciser in every frame of a video file, webcam index or keypoint file."""
        return self.track_exerciser(path, progress)[0]

    def track_exerciser(self, path: str | Path, progress: Progress | None = None) -> tuple[PoseTrack, list[Note]]:
        """The exerciser's pose track and notes on who and what was left out.

        With ``pose.people = "all"`` (the default) every person is followed
        (:meth:`people_tracks`) and :func:`select_exerciser` keeps the one doing the
        exercise, in the shots that show it; with ``"one"`` BlazePose's single-person
        tracker runs. A backend passed in is used as it is.
        """
        if is_keypoint_file(path):
            return PoseTrack.from_keypoint_file(check_readable_file(path)), []
        if self._backend is not None or self.settings.pose.people == "one":
            return self._track_one(path, progress), []
        return select_exerciser(self.people_tracks(path, progress), self.settings)

    def _open(self, path: str | Path):
        return open_source(
            path,
            truncated_fraction=self.settings.source.truncated_fraction,
            min_duration_s=self.settings.source.min_duration_s,
        )

    def _track_one(self, path: str | Path, progress: Progress | None) -> PoseTrack:
        """One person, followed by the backend passed in or BlazePose's single-person tracker."""
        source = self._open(path)
        backend = self._backend
        if backend is None:
            from flatback.pose.mediapipe import MediaPipePose

            backend = MediaPipePose(self.settings.pose)
        try:
            frames, seen_s = self._pose_sampled(source, backend, progress)
        finally:
            if self._backend is None:
                backend.close()
        g = self.settings.geometry
        return fill_between(PoseTrack.from_frames(frames, source.info, backend.name), seen_s, g.cut_size_change,
                            g.cut_jump_ratio)

    def _pose_sampled(self, source, backend, progress: Progress | None) -> tuple[list, np.ndarray]:
        """The backend's answer for each frame ``pose/sampling.py`` chooses, decoding beside
        inference, with progress; and every frame's time, posed or not, s."""
        out = []
        seen_s: list[float] = []
        sampler = sampler_for(self.settings.pose)
        frames = (prefetch(source.frames(self.settings.pose.max_rate_hz)) if isinstance(source, Webcam)
                  else sampled(source, sampler, seen_s))
        for frame in frames:
            pose = backend(frame)
            out.append(pose)
            sampler.posed(frame.t_s, [pose.xy_px] if np.isfinite(pose.xy_px[:, 0]).any() else [])
            if isinstance(source, Webcam):
                seen_s.append(frame.t_s)
            if progress is not None:
                progress(frame.t_s, source.info.duration_s)
        return out, np.array(seen_s)

    def people_tracks(self, path: str | Path, progress: Progress | None = None) -> list[PoseTrack]:
        """Every person in a video, each followed through it (``pose/multi.py`` then
        ``measure/people.associate``): one track per person, all as long as the clip."""
        from flatback.pipeline.parts import pose_people

        source = self._open(path)
        people, name, seen_s = pose_people(source, self.settings, progress)  # a long video in parts, at once
        if not people:
            raise VideoContentError(f"{source.info.path} has no frames to analyse.")
        # the frames not posed (the legs still or slow) filled in, as if every frame were
        g = self.settings.geometry
        return [fill_between(track, seen_s, g.cut_size_change, g.cut_jump_ratio)
                for track in associate(people, source.info, name)]

    def choose_exercise(self, track: PoseTrack) -> ExerciseChoice:
        """The exercise, recognised or forced (``recognition.exercise``)."""
        forced = self.settings.recognition.exercise
        if forced != "auto":
            return ExerciseChoice(Exercise(forced), 1.0, "chosen with --exercise", forced=True)
        rec = recognize(track, self.settings.recognition)
        fallback = Exercise(rec.fallback) if rec.fallback else None
        doubt = None
        if fallback is not None:
            doubt = (f"recognised as {rec.name.replace('_', ' ')} with confidence {rec.confidence:.2f}, but the legs "
                     f"lift and lower: measured as a {fallback.replace('_', ' ')}, with that doubt")
        return ExerciseChoice(Exercise(rec.name), round(rec.confidence, 3), rec.reason, measured_as=fallback,
                              doubt=doubt)

    def analyze_track(self, track: PoseTrack, notes: list[Note] | None = None) -> Analysis:
        """Everything after pose: checks, geometry, signals, the variation's reps, coaching.
        ``notes``: what the pose stage has to say (who was ignored, which shots skipped)."""
        pose_notes = list(notes or [])
        s = self.settings
        pose_notes += check_people(track, s.checks)
        track, trim_notes = trim_to_person(track, s.checks, s.geometry)
        pose_notes += trim_notes
        check_view(track, s.checks)
        exercise = self.choose_exercise(track)
        variation = variation_for(exercise.analysed_as)
        if exercise.analysed_as is Exercise.NOT_LEG_LIFT:
            return not_leg_lift_analysis(track, s, exercise, variation, pose_notes)
        notes = pose_notes + check_in_frame(track, s.checks, s.geometry)
        if exercise.doubt:
            notes.append(Note(NoteCode.RECOGNITION_DOUBT, f"{exercise.doubt} ({exercise.reason})."))
        elif exercise.name is Exercise.UNKNOWN:
            notes.append(Note(NoteCode.RECOGNITION_DOUBT, (
                f"The exercise could not be recognised ({exercise.reason}); measured as a double-leg lift. "
                "Say which it is with --exercise."
            )))
        geometry = compute_body_geometry(track, s.geometry)
        notes += geometry_notes(geometry, s.geometry)
        signals = compute_signals(geometry, s.signals)
        clearance = compute_clearance(track, geometry, s.clearance, s.geometry.arm_underside_ratio)
        back = track_back(signals.t_s, clearance, signals.leg_angle_deg, geometry.torso_length_px, s.back_lift)
        if variation.back_rule:
            notes += clearance_notes(clearance, back)
        done = variation.analyse(track, geometry, signals, back, s)
        notes += variation_notes(done.extras, done.holds)
        setup = bool(variation.back_rule and done.reps and setup_back_not_flat(
            signals.t_s, back, done.reps[0].timing, s.back_lift))
        cues = session_cues(done.reps, setup_back_not_flat=setup, extras=done.extras,
                            first_hold_s=done.holds[0].start_s if done.holds else None)
        end_range = session_end_range(done.reps) if variation.back_rule else EndRange(None, EndRangeMethod.NOT_MEASURED)
        table = frame_table(signals.t_s, done.reps, done.holds, back.state,
                            make_cue(CueCode.SETUP_BACK_NOT_FLAT) if setup else None)
        return Analysis(
            track=track, settings=s, exercise=exercise, variation=variation, reps=done.reps,
            partial_reps=done.partial, holds=done.holds, end_range=end_range, cues=cues, notes=notes,
            extras=done.extras, rest=done.rest, hysteresis_deg=done.hysteresis_deg,
            measured=Measured(geometry, signals, clearance, back, table),
        )

    def run(self, path: str | Path, progress: Progress | None = None) -> Analysis:
        track, notes = self.track_exerciser(path, progress)
        return self.analyze_track(track, notes)


def select_exerciser(tracks: list[PoseTrack], settings: Settings | None = None) -> tuple[PoseTrack, list[Note]]:
    """The exerciser's track among everyone's (``measure/people.choose_exerciser``), with
    the frames of shots that do not show the exercise blanked and the clip's times kept
    (``measure/shots.py``), and notes naming who and what was left out."""
    s = settings or Settings()
    if not tracks:
        raise VideoContentError(
            "No person found in the video. Film the whole body from the side, in good light, "
            "with nothing in front of the camera."
        )
    track, who = choose_exerciser(tracks)
    shots = find_shots(tracks, track_cuts(track, s.geometry))
    notes = [Note(NoteCode.PEOPLE, text) for text in who]
    if any(sh.analysed for sh in shots):  # else no shot shows the exercise: the clip is analysed whole
        notes += [Note(NoteCode.SHOTS, text) for text in skipped_notes(shots)]
        track = exercise_only(track, shots)
    return track, notes


def not_leg_lift_analysis(
    track: PoseTrack, settings: Settings, exercise: ExerciseChoice, variation: Variation, notes: list[Note],
) -> Analysis:
    """An analysis that stops at recognition: no leg-lift verdicts for other exercises."""
    note = Note(NoteCode.NOT_LEG_LIFT, (
        f"This does not look like a leg lift ({exercise.reason}). flatback measures lying leg lifts and their "
        "variations; nothing else was measured. If it is one, say which with --exercise."
    ))
    return Analysis(track, settings, exercise, variation, [], [], [], EndRange(None, EndRangeMethod.NOT_MEASURED),
                    [], [note, *notes])


def geometry_notes(geometry: BodyGeometry, settings: GeometrySettings) -> list[Note]:
    """What the user should know about how the numbers were measured."""
    out = []
    thigh = float((geometry.leg_source == LegSource.THIGH).mean())
    if thigh > 0.1:
        out.append(Note(NoteCode.FEET_OUT_OF_FRAME, (
            f"The feet were out of frame or hidden in {thigh:.0%} of frames; the leg angle "
            "there is the thigh's (hip to knee)."
        )))
    cuts = geometry.t_s[geometry.cut]
    if len(cuts):
        out.append(Note(NoteCode.CUT, (
            f"The video cuts to another shot at {', '.join(f'{t:.1f}' for t in cuts[:5])} s; "
            "no rep is measured across a cut."
        )))
    if geometry.leg_angles_from != "picture":
        if geometry.leg_angles_from == "3-D skeleton":
            where = (f"stands about {geometry.view_yaw_deg:.0f} degrees off the side view, behind the feet or the "
                     "head: the legs are foreshortened and the angles are rough estimates")
        else:
            # what alone would make the picture err: the turn, the height, or (neither alone) both
            turned = picture_error_deg(yaw_deg=geometry.view_yaw_deg) > settings.picture_max_error_deg
            raised = picture_error_deg(elevation_deg=geometry.view_elevation_deg) > settings.picture_max_error_deg
            places = []
            if turned or not raised:
                places.append(f"stands about {geometry.view_yaw_deg:.0f} degrees off the side view")
            if raised or not turned:
                places.append(f"looks down on the floor from about {geometry.view_elevation_deg:.0f} degrees above it")
            where = (" and ".join(places) + ": leg angles are the picture's, corrected for the camera's place as the "
                     "pose model's 3-D skeleton estimates it (good to about 5 degrees)")
        out.append(Note(NoteCode.VIEW_OBLIQUE, (
            f"The camera {where}. Film from the side at floor height for the most precise angles and to see the "
            "lower back."
        )))
    swaps = int(geometry.swapped.sum())
    if swaps:
        out.append(Note(NoteCode.LEFT_RIGHT_SWAPPED,
                        f"The pose model swapped left and right in {swaps} frame(s); they were swapped back."))
    if geometry.posture == "upright":
        out.append(Note(NoteCode.UPRIGHT,
                        "The person is upright, not lying: leg angles are measured from hanging straight down."))
    return out


def variation_notes(extras: VariationExtras | None, holds: list[Hold]) -> list[Note]:
    """What the variation's own numbers could not say."""
    if isinstance(extras, HollowHoldExtras) and holds and extras.longest_flat_hold_s is None:
        return [Note(NoteCode.HOLD_NOT_TIMED, (
            "The lower back was not seen during the hold, so the hold was not timed (the timer runs only "
            "while the back is seen flat). Film from the side at floor height, arms overhead."
        ))]
    return []


def clearance_notes(clearance: Clearance, back: BackTrack) -> list[Note]:
    """Why the lower back could not be seen, and what to change when filming."""
    out: list[Note] = []
    lying = clearance.status != ClearanceStatus.NOT_LYING
    if not lying.any():
        return out
    share = {st: float((clearance.status[lying] == st).mean()) for st in ClearanceStatus}
    if share[ClearanceStatus.OBLIQUE] > 0.5:
        out.append(Note(NoteCode.BACK_OUT_OF_SIGHT, (
            "From a camera off the side view the gap under the lower back is hidden behind the body, so the "
            "back was not judged. For the end range, film from the side at floor height."
        )))
    if share[ClearanceStatus.CAMERA_HIGH] > 0.5:
        out.append(Note(NoteCode.CAMERA_HIGH, (
            f"The camera looks down on you ({clearance.camera_elevation_deg:.0f} deg above the floor): the gap "
            "under the lower back is out of sight. Put the camera at floor height."
        )))
    if share[ClearanceStatus.ARM] > 0.3:
        out.append(Note(NoteCode.ARM_HIDES_BACK, (
            f"An arm lying beside the body hides the lower back in {share[ClearanceStatus.ARM]:.0%} of frames. "
            "Put the arms overhead on the floor, or the hands under the glutes."
        )))
    if share[ClearanceStatus.RAGGED_MASK] > 0.3:
        out.append(Note(NoteCode.RAGGED_MASK, (
            f"The outline under the lower back is ragged in {share[ClearanceStatus.RAGGED_MASK]:.0%} of frames "
            "(loose clothing?): wear fitted clothes."
        )))
    if share[ClearanceStatus.NO_FLOOR] > 0.3:
        out.append(Note(NoteCode.NO_FLOOR, (
            f"No floor line could be drawn under the buttocks and upper back in {share[ClearanceStatus.NO_FLOOR]:.0%} "
            "of frames (something else touches the floor there, or the camera is tilted), so the lower back "
            "was not measured there. Level the camera at floor height and keep hands and cushions from under the body."
        )))
    if share[ClearanceStatus.NO_MASK] > 0.3:
        out.append(Note(NoteCode.NO_MASK, (
            f"The body's outline under the lower back was not found in {share[ClearanceStatus.NO_MASK]:.0%} of frames "
            "(too dark, too small, or the same colour as the floor), so the lower back was not measured there. "
            "Film in good light, closer, with clothes that stand out from the floor."
        )))
    if back.baseline is not None and not back.baseline.legs_up:
        out.append(Note(NoteCode.NO_LEGS_UP_BASELINE,
                        "The legs never came up to vertical, so the flat-back level is estimated from the lowest readings."))
    return out


__all__ = ["Analysis", "Analyzer", "Measured", "is_keypoint_file", "select_exerciser"]
