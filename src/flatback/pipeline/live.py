"""The streaming analyzer: one pose frame in, the coaching state out (live mode).

``LiveAnalyzer.update(pose_frame) -> LiveState`` drives the same stage objects the
offline chain (:mod:`flatback.pipeline.offline`) runs over a whole clip:
:class:`~flatback.measure.geometry.LeftRightRepair`,
:class:`~flatback.measure.geometry.FloorEstimator`,
:class:`~flatback.measure.view.ViewEstimator`, the causal
:class:`~flatback.measure.signals.OneEuroFilter`, per-frame
:func:`~flatback.measure.clearance.frame_clearance`,
:class:`~flatback.analyse.backlift.BackTracker` and
:class:`~flatback.analyse.reps.RepTracker`; each finished rep is judged with
:func:`~flatback.analyse.assessment.assess_rep`. Offline adds only look-ahead (the
floor line and hysteresis from the whole clip, zero-phase cleaning, the rest mode from
all turning points). ``finish()`` returns what was recorded, for the full offline
analysis.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from flatback.analyse.assessment import assess_rep
from flatback.analyse.backlift import BackReading, BackTracker
from flatback.analyse.reps import RepEvent, RepTracker, Segmentation
from flatback.analyse.results import BackState, Exercise, Fault, RepBack, Rest, Side
from flatback.analyse.variations import (
    Variation,
    leg_seen_at_turn,
    leg_seen_in,
    variation_for,
    working_leg_deg,
    working_side_at,
)
from flatback.coach.cues import CUE_WORDS, FAULT_CUES, CueCode
from flatback.io.source import FrameRecorder
from flatback.measure.clearance import ClearanceStatus, frame_clearance
from flatback.measure.geometry import (
    FloorEstimator,
    FloorLine,
    LeftRightRepair,
    LegSteadiness,
    frame_leg_angles,
    in_frame_visibility,
    shoulder_hip,
)
from flatback.measure.signals import OneEuroFilter, SignalSet
from flatback.measure.view import ViewEstimator, world_trunk_elevation_deg
from flatback.pose import PoseBackend
from flatback.settings import RepSettings, Settings, SignalSettings
from flatback.types import Frame, Landmark, PoseFrame, PoseTrack, VideoInfo

# Frames whose torso lengths give the running torso length (the clearance's unit): about
# 5 s at 30 frames/s, long enough to ride over a bad frame, short enough to follow a zoom.
TORSO_FRAMES = 150
# Frames whose hip-axis tilt gives the running camera elevation (as offline, a median).
ELEVATION_FRAMES = 90
# Seconds of per-frame signals kept for judging a rep when its event arrives: longer than
# any rep (a slow 4 s lowering with pauses lasts about 10 s).
HISTORY_S = 60.0

PHASES = ("ascent", "top", "descent", "bottom", "hold", "none")


@dataclass(frozen=True)
class LiveState:
    """What the coach knows at one frame.

    ``t_s``: the frame's time, s. ``leg_angle_deg``: the causally filtered leg angle,
    deg (NaN when the legs are not seen). ``phase``: one of :data:`PHASES`.
    ``rep_count`` / ``quality_rep_count``: reps so far, and those without faults.
    ``rep``: the latest rep event (its measurements), ``rep_faults`` its faults.
    ``tempo_count``: whole seconds since the legs left the top, during a lowering; 0
    otherwise. ``back``: the back's state and clearance (torso lengths). ``floor``: the
    floor line so far (None until the trunk has been seen lying). ``cue_code`` /
    ``cue``: the one thing to say now (None when nothing needs saying).
    ``clearance_status``: why the frame has or has not a clearance reading (a
    :class:`~flatback.measure.clearance.ClearanceStatus` label: measured, arm,
    camera_high...). ``camera_elevation_deg``: the running camera elevation above the
    floor, deg (NaN until the hips are seen in 3-D).
    """

    t_s: float
    leg_angle_deg: float
    phase: str
    rep_count: int
    quality_rep_count: int
    rep: RepEvent | None
    rep_faults: tuple[str, ...]
    tempo_count: int
    back: BackReading
    floor: FloorLine | None
    cue_code: str | None
    cue: str | None
    clearance_status: str = "no_pose"
    camera_elevation_deg: float = math.nan

    @property
    def back_state(self) -> str:
        return self.back.state

    @property
    def clearance_ratio(self) -> float:
        return self.back.clearance_ratio


@dataclass(frozen=True)
class LiveRecording:
    """What a live session recorded: its pose track (for the full offline analysis; None
    if no frame came) and the streaming segmentation, closed at the end."""

    track: PoseTrack | None
    segmentation: Segmentation


class LiveAnalyzer:
    """Frame-by-frame analysis of a leg-lift set: ``update(pose_frame) -> LiveState``.

    ``info``: the source's picture size (points outside it are unseen, as offline).
    ``reset()`` starts a new set; ``finish()`` returns the :class:`LiveRecording`.
    """

    def __init__(
        self, info: VideoInfo, settings: Settings | None = None, backend: str = "mediapipe",
        variation: Variation | None = None,
    ):
        """``variation``: the exercise being done, when known (the user chose it): a one-leg
        variation is then also counted leg by leg, as offline."""
        self.info = info
        self.settings = settings or Settings()
        self.backend = backend
        self.variation = variation
        self.reset()

    def reset(self) -> None:
        s = self.settings
        self._frames: list[PoseFrame] = []
        self._repair = LeftRightRepair(s.geometry.swap_margin)
        self._steadiness = LegSteadiness(s.geometry)
        self._floor = FloorEstimator(s.geometry)
        self._view = ViewEstimator(s.geometry.picture_max_error_deg)
        self._spikes = SpikeGate(s.signals.outlier_window_s, s.signals.outlier_mads, s.signals.outlier_min_deg)
        self._filter = OneEuroFilter(s.signals.causal_min_cutoff_hz, s.signals.causal_beta)
        self._reps = RepTracker(s.reps, level_tolerance_deg=s.reps.live_level_tolerance_deg)
        self._thighs = _SidePair(s.signals)  # what the rep trackers check a rep's movement at the hip on
        self._back = BackTracker(s.back_lift)
        self._torso: deque[float] = deque(maxlen=TORSO_FRAMES)
        self._elevation: deque[float] = deque(maxlen=ELEVATION_FRAMES)
        self._history: deque[tuple[float, float, float, float, float]] = deque()  # t, leg, speed, knee, hip height
        self._lifted_s: deque[float] = deque()  # times the back was seen lifted
        self._last_seen: tuple[float, float] | None = None  # (t_s, filtered deg) of the last leg angle
        self._lowering_since: float | None = None  # when the current lowering left the top, s
        self._left_top_s: float | None = None  # the last time the legs were at the top or rising, s
        self._phase = "none"
        self._event: RepEvent | None = None
        self._faults: tuple[str, ...] = ()
        self._quality: dict[int, bool] = {}
        self._working: _WorkingLeg | None = None
        if self.variation is not None and self.variation.per_side:
            rest = self.variation.rest.value if self.variation.rest else s.reps.rest
            reps = s.reps.model_copy(update={"rest": rest})
            self._working = _WorkingLeg(s, reps, self.variation.rest)

    # --- the stream ---

    def update(self, frame: PoseFrame) -> LiveState:
        """One pose frame in (in time order), the state at its time out."""
        self._frames.append(frame)
        t = frame.t_s
        xy, legs, floor, posture = self._geometry(frame)
        torso_px = self._torso_px(legs)
        self._elevation.append(_hip_axis_tilt_deg(frame))
        leg, speed = self._signal(t, legs.leg_angle_deg if legs is not None else math.nan)
        # from the feet or the head the picture's thighs are foreshortened: left out, as offline
        along_legs = self._view.yaw_deg > self.settings.geometry.max_measurable_yaw_deg
        thighs = ((math.nan, math.nan) if legs is None or along_legs
                  else self._thighs.update(t, legs.thigh_left_deg, legs.thigh_right_deg)[1])
        event = self._reps.update(frame.index, t, leg, speed, thighs) if math.isfinite(leg) else None

        back, status = self._back_reading(t, frame, xy, legs, floor, posture, torso_px, leg)
        if math.isfinite(leg):
            knee = legs.knee_flexion_deg if legs is not None else math.nan
            hip_h = legs.hip_height_px if legs is not None else math.nan
            self._remember(t, leg, speed, knee, hip_h)
        if event is not None:
            self._judge(event)
        if legs is not None and self._working is not None:
            self._working.update(frame.index, t, legs.left_deg, legs.right_deg, thighs)
        self._phase = self._phase_now(leg, speed)
        cue_code, cue = self._cue(back)
        return LiveState(
            t_s=t,
            leg_angle_deg=leg,
            phase=self._phase,
            rep_count=self._rep_count(),
            quality_rep_count=sum(q for n, q in self._quality.items() if n <= self._reps.rep_count),
            rep=self._event,
            rep_faults=self._faults,
            tempo_count=self._tempo(t),
            back=back,
            floor=floor,
            cue_code=cue_code,
            cue=cue,
            clearance_status=status.label,
            camera_elevation_deg=self._elevation_deg(),
        )

    def finish(self) -> LiveRecording:
        """End the session: the frames seen as a PoseTrack and the closed segmentation
        (for a one-leg variation, the working leg's reps where that leg was seen at its
        turn, the offline rule)."""
        segmentation = self._reps.finish()
        info = self.info
        if self._frames:
            info = VideoInfo(info.path, float(self._frames[-1].t_s), info.fps, info.width, info.height,
                             info.rotation_deg)
        track = PoseTrack.from_frames(self._frames, info, self.backend) if self._frames else None
        if self._working is not None and track is not None:
            working = self._working
            seg = working.tracker.finish()
            sided = [replace(r, side=working.side_at(r.turn_s)) for r in seg.reps]
            reps = [r for r in sided if leg_seen_at_turn(track, r.side, r.turn_s, self.settings)]
            segmentation = replace(segmentation, reps=reps)
        return LiveRecording(track, segmentation)

    def _rep_count(self) -> int:
        """Reps so far: for a one-leg variation, the working leg's reps seen at their turn."""
        if self._working is None:
            return self._reps.rep_count
        return self._seen_reps(self._working)

    def _seen_reps(self, working: _WorkingLeg) -> int:
        """The working leg's reps so far that were seen at their turn. Each turn is judged
        once its visibility window has closed (so a long set costs no more per frame); a
        turn whose window is still open is judged on the frames so far."""
        vs = self.settings.variations
        now = self._frames[-1].t_s if self._frames else 0.0

        def seen(turn_s: float, side: Side | None) -> bool:
            frames = self._recent_frames(turn_s, vs.side_turn_window_s)
            return leg_seen_in(np.array([f.visibility for f in frames]).reshape(-1, len(Landmark)), side,
                               self.settings)

        turns = working.turns
        while len(working.seen) < len(turns) and now > turns[len(working.seen)][0] + vs.side_turn_window_s:
            working.seen.append(seen(*turns[len(working.seen)]))
        return sum(working.seen) + sum(seen(*turn) for turn in turns[len(working.seen):])

    def _recent_frames(self, t_s: float, half_s: float) -> list[PoseFrame]:
        out = []
        for f in reversed(self._frames):
            if f.t_s < t_s - half_s:
                break
            if f.t_s <= t_s + half_s:
                out.append(f)
        return out

    # --- stages ---

    def _geometry(self, frame: PoseFrame):
        """(landmarks after left/right repair (33, 2) px, the working leg or None, the
        floor line so far or None, the posture so far or None) of one frame."""
        s = self.settings.geometry
        vis = in_frame_visibility(frame.xy_px[None], frame.visibility[None], self.info.width, self.info.height,
                                  s.in_frame_margin_frac)[0]
        xy, vis, _ = self._repair.update(frame.xy_px, vis)
        mask = frame.mask
        shoulder, hip = shoulder_hip(xy, vis, s.min_visibility)
        # lying is judged in the picture or in the 3-D skeleton, as offline (compute_floor_line)
        self._floor.update(
            xy, vis, None if mask is None else mask.x_px, None if mask is None else mask.bottom_y_px, shoulder, hip,
            float(world_trunk_elevation_deg(frame.world_xyz_m)),
        )
        posture = self._floor.posture
        self._reps.posture = posture or "lying"
        view = self._view.update(frame.world_xyz_m, posture == "lying")  # offline: the clip's, here the set's so far
        floor = self._floor.current(skeleton_3d=not math.isnan(self._view.yaw_deg))
        legs = None if floor is None else frame_leg_angles(xy, vis, floor, posture or "lying", s, shoulder, hip, view,
                                                           self._steadiness, frame.t_s)
        return xy, legs, floor, posture

    def _torso_px(self, legs) -> float:
        """The running torso length, px: the median over the last TORSO_FRAMES frames."""
        torso = float(np.linalg.norm(legs.shoulder_px - legs.hip_px)) if legs is not None else math.nan
        if math.isfinite(torso):
            self._torso.append(torso)
        return float(np.median(self._torso)) if self._torso else math.nan

    def _signal(self, t: float, raw: float) -> tuple[float, float]:
        """(filtered leg angle deg, speed deg/s); NaN while unseen or a spike. A gap
        longer than ``max_gap_s`` ends the tracker's run; a shorter one is bridged
        (offline fills it)."""
        raw = self._spikes.update(t, raw)
        if not math.isfinite(raw):
            if self._last_seen is not None and t - self._last_seen[0] > self.settings.signals.max_gap_s:
                self._reps.break_run()
                self._filter.reset()
                self._thighs.reset()
                self._last_seen = None
            return math.nan, math.nan
        x = self._filter.update(t, raw)
        speed = 0.0
        if self._last_seen is not None and t > self._last_seen[0]:
            speed = (x - self._last_seen[1]) / (t - self._last_seen[0])
        self._last_seen = (t, x)
        return x, speed

    def _elevation_deg(self) -> float:
        """The running camera elevation, deg: the median hip-axis tilt of the last
        ELEVATION_FRAMES frames (NaN if none was seen)."""
        return float(np.nanmedian(self._elevation)) if np.isfinite(self._elevation).any() else math.nan

    def _back_reading(self, t, frame, xy, legs, floor, posture, torso_px, leg) -> tuple[BackReading, ClearanceStatus]:
        """The per-frame clearance (the offline rules of compute_clearance), then the
        back tracker; with the frame's clearance status."""
        cs = self.settings.clearance
        ratio, status = math.nan, ClearanceStatus.NO_MASK
        if posture == "upright":
            status = ClearanceStatus.NOT_LYING
        elif legs is None or not math.isfinite(torso_px):
            status = ClearanceStatus.NO_POSE
        elif frame.mask is not None:
            m = frame.mask
            ratio, status, _, _ = frame_clearance(
                m.x_px, m.bottom_y_px, m.top_y_px, xy, legs.shoulder_px, legs.hip_px, torso_px,
                floor.contact_roll_deg if floor.contact_roll_deg is not None else floor.roll_deg, cs,
                self.settings.geometry.arm_underside_ratio,
            )
            elevation = self._elevation_deg()
            if math.isfinite(elevation) and elevation > cs.max_camera_elevation_deg:
                ratio, status = math.nan, ClearanceStatus.CAMERA_HIGH
        back = self._back.update(t, ratio, status, leg, torso_px)
        if back.state == "lifted":
            self._lifted_s.append(t)
        while self._lifted_s and self._lifted_s[0] < t - HISTORY_S:
            self._lifted_s.popleft()
        return back, status

    def _remember(self, t: float, leg: float, speed: float, knee: float, hip_h: float) -> None:
        self._history.append((t, leg, speed, knee, hip_h))
        while self._history and self._history[0][0] < t - HISTORY_S:
            self._history.popleft()

    def _judge(self, event: RepEvent) -> None:
        """Faults of the rep just reported, by the offline rules of assess_rep."""
        rep = event.rep
        h = np.array(self._history, float).reshape(-1, 5)
        t, leg, speed, knee, hip_h = h.T
        torso = float(np.median(self._torso)) if self._torso else math.nan
        nan = np.full(len(t), np.nan)
        hip_ratio = (hip_h - np.nanpercentile(hip_h, 10)) / torso if np.isfinite(hip_h).any() else nan
        signals = SignalSet(
            t_s=t, breaks=np.zeros(len(t), bool), leg_angle_raw_deg=leg, leg_angle_deg=leg, leg_speed_deg_s=speed,
            leg_angle_left_deg=leg, leg_angle_right_deg=leg, knee_flexion_deg=knee, hip_flexion_deg=nan,
            trunk_angle_deg=nan, head_angle_deg=nan, hip_height_ratio=hip_ratio, legs_lower_deg=leg,
            legs_higher_deg=leg,
        )
        lifted = any(rep.start_s <= x <= rep.end_s for x in self._lifted_s)
        back = RepBack(BackState.LIFTED if lifted else BackState.UNKNOWN)
        report = assess_rep(event.number, rep, signals, Rest(self._reps.rest), None, self.settings.assessment, back)
        self._event, self._faults = event, tuple(report.faults)
        self._quality[event.number] = bool(report.quality_rep)

    def _phase_now(self, leg: float, speed: float) -> str:
        """ascent/descent while the legs move faster than ``hold_max_speed_deg_s``;
        still, hold when the rep tracker sees one, else top or bottom by which of the
        last turning levels the legs are nearer."""
        if not math.isfinite(leg):
            return "none"
        if self._reps.holding is not None:
            return "hold"
        still = self.settings.reps.hold_max_speed_deg_s
        if speed > still:
            return "ascent"
        if speed < -still:
            return "descent"
        high, low = self._reps.levels_deg
        if high is None or low is None:
            return "none" if self._phase in ("none", "hold") else self._phase
        return "top" if leg >= 0.5 * (high + low) else "bottom"

    def _tempo(self, t: float) -> int:
        """Whole seconds since the legs left the top, while they are lowering."""
        if self._phase == "descent":
            if self._lowering_since is None:
                self._lowering_since = self._left_top_s if self._left_top_s is not None else t
            return int(t - self._lowering_since)
        if self._phase in ("top", "ascent"):
            self._left_top_s = t
        self._lowering_since = None
        return 0

    def _cue(self, back: BackReading) -> tuple[str | None, str | None]:
        """The back lifting now first; else the last rep's most important fault."""
        if back.state == BackState.LIFTED:
            return CueCode.BACK_LIFTED.value, CUE_WORDS[CueCode.BACK_LIFTED][1]
        codes = [FAULT_CUES[Fault(f)] for f in self._faults if f in FAULT_CUES]
        if not codes:
            return None, None
        code = min(codes, key=lambda c: CUE_WORDS[c][0])
        return code.value, CUE_WORDS[code][1]


class _WorkingLeg:
    """A one-leg variation's working leg (:func:`working_leg_deg`, as offline): each leg's
    spikes out, the working one picked, its own spikes out and then filtered causally (as
    offline, so that a left/right swap does not read as a bump:
    :func:`~flatback.measure.signals.clean_pair_extreme`), counted by a rep tracker, and
    which leg it was at each turn (each leg filtered)."""

    def __init__(self, settings: Settings, reps: RepSettings, rest: Rest | None):
        sg = settings.signals
        self.rest = rest
        self.legs = _SidePair(sg)
        self.working_spikes = SpikeGate(sg.outlier_window_s, sg.outlier_mads, sg.outlier_min_deg)
        self.working_filter = OneEuroFilter(sg.causal_min_cutoff_hz, sg.causal_beta)
        self.tracker = RepTracker(reps, level_tolerance_deg=reps.live_level_tolerance_deg)
        self.turns: list[tuple[float, Side | None]] = []  # (far turn s, working leg) of each rep reported
        self.seen: list[bool] = []  # whether the working leg was seen at each turn whose window has closed
        self._t: list[float] = []
        self._left: list[float] = []
        self._right: list[float] = []
        self._last: tuple[float, float] | None = None
        self._max_gap_s = sg.max_gap_s
        self._seen_s: dict[Side, float] = {}  # when each leg last had a reading, s

    def update(
        self, i: int, t_s: float, left_deg: float, right_deg: float,
        thighs_deg: tuple[float, float] = (math.nan, math.nan),
    ) -> None:
        gated, (left, right) = self.legs.update(t_s, left_deg, right_deg)
        self._t.append(t_s)
        self._left.append(left)
        self._right.append(right)
        # a leg missing for a moment (a rejected spike, a dropped frame) is a gap offline
        # fills, not the other leg taking over: wait for it rather than jump to the other
        for side, x in gated.items():
            if math.isfinite(x):
                self._seen_s[side] = t_s
            elif t_s - self._seen_s.get(side, -math.inf) <= self._max_gap_s:
                return
        x = self.working_spikes.update(
            t_s, float(working_leg_deg(np.asarray(gated[Side.LEFT]), np.asarray(gated[Side.RIGHT]), self.rest)))
        if not math.isfinite(x):
            return
        x = self.working_filter.update(t_s, x)
        speed = 0.0 if self._last is None or t_s <= self._last[0] else (x - self._last[1]) / (t_s - self._last[0])
        self._last = (t_s, x)
        event = self.tracker.update(i, t_s, x, speed, thighs_deg)
        if event is not None and event.number > len(self.turns):
            self.turns.append((event.rep.turn_s, self.side_at(event.rep.turn_s)))

    def side_at(self, t_s: float) -> Side | None:
        return working_side_at(np.asarray(self._t), np.asarray(self._left), np.asarray(self._right), t_s, self.rest)


class _SidePair:
    """A left and a right reading (each leg's angle, each thigh's), each with its spikes out
    (:class:`SpikeGate`) and filtered causally, as the leg angle is."""

    def __init__(self, sg: SignalSettings):
        self.spikes = {side: SpikeGate(sg.outlier_window_s, sg.outlier_mads, sg.outlier_min_deg) for side in Side}
        self.filters = {side: OneEuroFilter(sg.causal_min_cutoff_hz, sg.causal_beta) for side in Side}

    def reset(self) -> None:
        """Start again after a long gap, as the leg angle's filter does."""
        for side in Side:
            self.spikes[side].reset()
            self.filters[side].reset()

    def update(self, t_s: float, left: float, right: float) -> tuple[dict[Side, float], tuple[float, float]]:
        """Both readings at ``t_s``: with their spikes out ({side: value}), and filtered
        (left, right); NaN unseen (or a spike)."""
        gated = {side: self.spikes[side].update(t_s, x) for side, x in ((Side.LEFT, left), (Side.RIGHT, right))}
        out = [self.filters[side].update(t_s, x) if math.isfinite(x) else math.nan for side, x in gated.items()]
        return gated, (out[0], out[1])


class SpikeGate:
    """Causal outlier rejection for one signal: the offline Hampel filter
    (:func:`flatback.measure.signals.reject_outliers`) looking back only.

    Each sample is compared with the line through the accepted samples of the last
    ``window_s``, s, extended to its time; it is a spike (NaN out) when it lies further
    than ``n_mads`` times the typical residual, and at least ``min_dev`` (the signal's
    unit), from it. A jump that lasts longer than half the window is real and accepted.
    """

    RESIDUALS = 300  # residuals kept for the typical one (10 s at 30 frames/s)

    def __init__(self, window_s: float, n_mads: float, min_dev: float):
        self.window_s, self.n_mads, self.min_dev = window_s, n_mads, min_dev
        self.reset()

    def reset(self) -> None:
        self._kept: deque[tuple[float, float]] = deque()
        self._residuals: deque[float] = deque(maxlen=self.RESIDUALS)
        self._rejecting_since: float | None = None

    def update(self, t_s: float, x: float) -> float:
        if not math.isfinite(x):
            return x
        while self._kept and self._kept[0][0] < t_s - self.window_s:
            self._kept.popleft()
        if len(self._kept) >= 3:
            residual = abs(x - _line_at(self._kept, t_s))
            scale = 1.4826 * float(np.median(self._residuals)) if self._residuals else 0.0
            if residual > max(self.n_mads * scale, self.min_dev):
                if self._rejecting_since is None:
                    self._rejecting_since = t_s
                if t_s - self._rejecting_since < 0.5 * self.window_s:
                    return math.nan
                self._kept.clear()  # it stayed there: a real jump, start again from it
            else:
                self._residuals.append(residual)
        self._rejecting_since = None
        self._kept.append((t_s, x))
        return x


def _line_at(points: deque[tuple[float, float]], t_s: float) -> float:
    """The least-squares line through (t, x) points, evaluated at ``t_s``."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mx = sum(x for _, x in points) / n
    stt = sum((t - mt) ** 2 for t, _ in points)
    slope = sum((t - mt) * (x - mx) for t, x in points) / stt if stt > 0 else 0.0
    return mx + slope * (t_s - mt)


def _hip_axis_tilt_deg(frame: PoseFrame) -> float:
    """The camera's elevation from this frame's 3-D hip axis, deg (see
    :func:`flatback.measure.clearance.camera_elevation_deg`); NaN if unseen."""
    axis = frame.world_xyz_m[Landmark.RIGHT_HIP] - frame.world_xyz_m[Landmark.LEFT_HIP]
    if not np.isfinite(axis).all():
        return math.nan
    return float(np.degrees(np.arctan2(abs(axis[1]), math.hypot(axis[0], axis[2]))))


def analyze_live(
    track: PoseTrack, settings: Settings | None = None, variation: Variation | None = None,
) -> tuple[list[LiveState], LiveRecording]:
    """Replay a recorded track through the live analyzer, frame by frame (tests,
    benchmarks): every state and the recording."""
    live = LiveAnalyzer(track.info, settings, track.backend, variation)
    states = [live.update(track.frame(i)) for i in range(len(track))]
    return states, live.finish()


def run_live_session(
    frames: Iterable[Frame], backend: PoseBackend, info: VideoInfo, settings: Settings | None = None, *,
    duration_s: float | None = None, stop: Callable[[], bool] | None = None,
    on_state: Callable[[LiveState], None] | None = None, record_to: Path | None = None,
) -> LiveRecording:
    """A live set: each frame through the pose backend and the LiveAnalyzer until the
    frames end, ``duration_s`` (s of frame time) has passed, or ``stop()`` says so.
    ``on_state`` sees every state; ``record_to`` receives the frames as an MP4 (for the
    annotated video of the full analysis afterwards)."""
    settings = settings or Settings()
    forced = settings.recognition.exercise  # --exercise: the set's variation, known from the start
    variation = None if forced == "auto" else variation_for(Exercise(forced))
    live = LiveAnalyzer(info, settings, backend.name, variation)
    with FrameRecorder(record_to, info.fps) if record_to is not None else nullcontext() as recorder:
        for frame in frames:
            if (duration_s is not None and frame.t_s > duration_s) or (stop is not None and stop()):
                break
            if recorder is not None:
                recorder.write(frame)
            state = live.update(backend(frame))
            if on_state is not None:
                on_state(state)
    return live.finish()


__all__ = ["PHASES", "LiveAnalyzer", "LiveRecording", "LiveState", "analyze_live", "run_live_session"]
