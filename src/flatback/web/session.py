"""One browser's live session: JPEG frames in, the coach's state out, the set saved at the end.

Not thread-safe: the server calls one session from one worker thread (the pose model
keeps its tracking state between frames). The modes:

- ``set``: a leg-lift set of ``target`` reps, then its summary;
- ``test``: the end-range test (``end_range_test.tries`` guided lowerings), then its result
  with the published norms (:mod:`flatback.coach.end_range_test`);
- ``hollow``: the hollow-body hold, a timer that runs only while the lower back is seen
  flat and the legs are held off the floor, to ``variations.hollow_hold_target_s``.

Before ``start()`` frames only feed the set-up check; after it they are also recorded (an
MP4 at their capture times) and ``finish()`` runs the full offline analysis of the
recording, writes its report folder and adds it to the training log.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from flatback.analyse.results import Exercise
from flatback.analyse.variations import variation_for
from flatback.coach.cues import CUE_WORDS, CueCode
from flatback.coach.end_range_test import NORMS_DEG, PROTOCOL, evaluate
from flatback.errors import FlatbackError
from flatback.io.source import FrameRecorder
from flatback.log.history import TrainingLog
from flatback.outputs.files import json_text, write_outputs
from flatback.outputs.report import Report
from flatback.pipeline.live import LiveAnalyzer, LiveState
from flatback.pipeline.offline import Analyzer
from flatback.pipeline.setup_check import SetupCheck
from flatback.pose import PoseBackend
from flatback.settings import Settings
from flatback.types import Frame, PoseFrame, VideoInfo

Mode = Literal["set", "test", "hollow"]
MODES: tuple[Mode, ...] = ("set", "test", "hollow")
# Landmarks drawn as the skeleton (BlazePose indices): the body, not the face and hands.
SKELETON_POINTS = (0, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32)


class FrameError(FlatbackError):
    """A live frame that is not a picture the session can use (a 4xx for the page)."""

    exit_code = 4


@dataclass(frozen=True)
class SavedSet:
    """A finished live set: its id (its report folder's name) and what the page shows."""

    id: str
    summary: dict[str, Any]


def decode_jpeg(data: bytes, settings: Settings) -> np.ndarray:
    """A JPEG (or PNG) frame as RGB (H, W, 3) uint8; :class:`FrameError` if it is not one."""
    import cv2

    limit = settings.serve.max_frame_kb * 1000
    if len(data) > limit:
        raise FrameError(f"a frame of {len(data) / 1000:.0f} kB is larger than {limit / 1000:.0f} kB")
    if not (data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"):
        raise FrameError("a frame is not a JPEG or PNG picture")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FrameError("a frame could not be decoded (damaged JPEG)")
    h, w = bgr.shape[:2]
    if max(h, w) > settings.serve.max_frame_px or min(h, w) < 64:
        raise FrameError(f"a frame of {w}x{h} px is outside 64-{settings.serve.max_frame_px} px")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _num(x: float | None, digits: int = 1) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


class LiveSession:
    """``LiveSession(backend, settings, sets_dir, db_url).process(capture_ms, jpeg) -> dict``."""

    def __init__(self, backend: PoseBackend, settings: Settings, sets_dir: Path, db_url: str | None,
                 mode: Mode = "set", target: int | None = None):
        self.backend = backend
        self.settings = settings
        self.sets_dir = sets_dir
        self.db_url = db_url
        self.mode: Mode = mode
        self.target = target or settings.serve.set_target_reps
        self.running = False
        self._size: tuple[int, int] | None = None
        self._index = 0
        self._t0_ms: float | None = None
        self._tmp: Path | None = None
        self._recorder: FrameRecorder | None = None
        self._new_analyzers(640, 480)

    # --- control ---

    def configure(self, mode: str, target: int | None) -> None:
        if mode not in MODES:
            raise FrameError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
        if self.running:
            raise FrameError("a set is running: stop it before changing the mode")
        self.mode = mode  # type: ignore[assignment]
        self.target = self._target(target)

    def _target(self, target: int | None) -> int:
        if self.mode == "test":
            return self.settings.end_range_test.tries
        if self.mode == "hollow":
            return int(round(self.settings.variations.hollow_hold_target_s))
        if target is None:
            return self.settings.serve.set_target_reps
        if not 1 <= target <= 100:
            raise FrameError(f"a target of {target} reps is outside 1-100")
        return target

    def start(self) -> None:
        """Begin the set: a fresh analyzer, the clock from the next frame, the recording."""
        self.close_recording()
        self.running = True
        self._t0_ms = None
        self._index = 0
        self._held_s = 0.0
        self._last_t: float | None = None
        self._last_count = 0
        self._tmp = Path(tempfile.mkdtemp(prefix="flatback-live-"))
        self._recorder = FrameRecorder(self._tmp / "set.mp4", 30.0)
        w, h = self._size or (640, 480)
        self._new_analyzers(w, h)

    def _settings_for_mode(self) -> Settings:
        if self.mode == "test":  # the test's protocol: both legs, lowered from vertical and back
            return self.settings.replace(recognition__exercise=Exercise.DOUBLE_LEG_LIFT.value, reps__rest="top")
        if self.mode == "hollow":
            return self.settings.replace(recognition__exercise=Exercise.HOLLOW_HOLD.value)
        return self.settings

    def _new_analyzers(self, w: int, h: int) -> None:
        info = VideoInfo("live", 0.0, 30.0, w, h)
        self._info = info
        settings = self._settings_for_mode()
        forced = settings.recognition.exercise  # the mode's exercise, known from the start (as --exercise)
        variation = None if forced == "auto" else variation_for(Exercise(forced))
        self.analyzer = LiveAnalyzer(info, settings, self.backend.name, variation)
        self.setup = SetupCheck(info, self.settings)
        self._held_s = 0.0
        self._last_t = None

    # --- frames ---

    def process(self, capture_ms: float, jpeg: bytes) -> dict[str, Any]:
        """One frame (its capture time, ms on the page's clock) in, the state message out."""
        image = decode_jpeg(jpeg, self.settings)
        h, w = image.shape[:2]
        if self._size != (w, h):  # a new camera size: the picture's geometry starts afresh
            self._size = (w, h)
            self._new_analyzers(w, h)
        if self._t0_ms is None:
            self._t0_ms = capture_ms
        t_s = (capture_ms - self._t0_ms) / 1000.0
        if self._last_t is not None and t_s <= self._last_t:  # a repeated or earlier time: keep time increasing
            t_s = self._last_t + 0.001
        frame = Frame(self._index, t_s, image)
        self._index += 1
        started = time.perf_counter()
        pose = self.backend(frame)
        state = self.analyzer.update(pose)
        setup = self.setup.update(pose, state)
        if self.running and self._recorder is not None:
            self._recorder.write(frame)
        held = self._hold(state)
        return self._message(capture_ms, pose, state, setup, held, (time.perf_counter() - started) * 1000)

    def _hold(self, state: LiveState) -> float:
        """The hollow hold's timer, s: it runs while the back is seen flat with the legs
        held off the floor, low (below ``recognition.hollow_max_leg_deg``) and still."""
        dt = 0.0 if self._last_t is None else max(state.t_s - self._last_t, 0.0)
        self._last_t = state.t_s
        if self.mode != "hollow" or not self.running:
            return 0.0
        r = self.settings
        leg = state.leg_angle_deg
        holding = (
            state.back_state == "flat" and math.isfinite(leg)
            and r.reps.hold_min_leg_angle_deg <= leg <= r.recognition.hollow_max_leg_deg
            and state.phase not in ("ascent", "descent")
        )
        if holding:
            self._held_s += dt
        return self._held_s

    @property
    def done(self) -> bool:
        """The set reached its target (reps, tries, or hold seconds)."""
        if not self.running:
            return False
        if self.mode == "hollow":
            return self._held_s >= self.settings.variations.hollow_hold_target_s
        return self._last_count >= self.target

    _last_count = 0

    def _message(self, capture_ms: float, pose: PoseFrame, state: LiveState, setup, held: float,
                 compute_ms: float) -> dict[str, Any]:
        self._last_count = state.rep_count
        vis = pose.visibility
        points = [
            [int(i), _num(float(pose.xy_px[i, 0])), _num(float(pose.xy_px[i, 1])), _num(float(vis[i]), 2)]
            for i in SKELETON_POINTS if np.isfinite(pose.xy_px[i]).all()
        ]
        floor = None
        if state.floor is not None and np.isfinite(pose.xy_px[[23, 24]]).all():
            hip = pose.xy_px[[23, 24]].mean(axis=0)
            y0 = float(hip[1])
            if pose.mask is not None:  # through the body's underside below the hips
                near = np.abs(pose.mask.x_px - hip[0]) < 0.05 * self._info.width
                under = pose.mask.bottom_y_px[near]
                if np.isfinite(under).any():
                    y0 = float(np.nanmax(under))
            slope = math.tan(math.radians(state.floor.roll_deg))
            w = self._info.width
            floor = [[0.0, _num(y0 - slope * float(hip[0]))], [float(w), _num(y0 + slope * (w - float(hip[0])))]]
        return {
            "type": "state",
            "capture_ms": capture_ms,
            "compute_ms": round(compute_ms, 1),
            "t_s": round(state.t_s, 3),
            "size": [self._info.width, self._info.height],
            "running": self.running,
            "mode": self.mode,
            "target": self.target,
            "rep_count": state.rep_count,
            "quality_rep_count": state.quality_rep_count,
            "phase": state.phase,
            "tempo_count": state.tempo_count,
            "leg_angle_deg": _num(state.leg_angle_deg),
            "back": str(state.back_state),
            "clearance_ratio": _num(state.clearance_ratio, 3),
            "clearance_status": state.clearance_status,
            "cue_code": state.cue_code,
            "cue": state.cue,
            "cue_priority": CUE_WORDS[CueCode(state.cue_code)][0] if state.cue_code else None,
            "rep_faults": list(state.rep_faults),
            "held_s": round(held, 1),
            "hold_target_s": self.settings.variations.hollow_hold_target_s,
            "setup": [{"key": s.key, "ok": s.ok, "text": s.text} for s in setup],
            "points": points,
            "floor": floor,
            "done": self.done,
        }

    # --- the end ---

    def finish(self) -> SavedSet | None:
        """End the set: the full analysis of its recording, its report folder, the training
        log. None when no frame was analysed since ``start()``."""
        if not self.running:
            return None
        self.running = False
        recording = self.analyzer.finish()
        video = self._tmp / "set.mp4" if self._tmp is not None else None
        self.close_recording(keep=True)
        try:
            if recording.track is None or len(recording.track) < 2:
                return None
            settings = self._settings_for_mode()
            set_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
            track = recording.track.replaced(info=VideoInfo(
                f"live-{self.mode}-{set_id}", recording.track.info.duration_s, 30.0, self._info.width, self._info.height))
            analysis = Analyzer(settings).analyze_track(track)
            result = evaluate(analysis.reps, analysis.notes, settings.end_range_test) if self.mode == "test" else None
            extra = {"test.json": json_text(result, settings.output.decimals)} if result is not None else {}
            meta = {"id": set_id, "mode": self.mode, "target": self.target,
                    "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "live_rep_count": self._last_count, "held_s": round(self._held_s, 1)}
            extra["set.json"] = json.dumps(meta, indent=2)
            outdir = write_outputs(analysis, self.sets_dir / set_id, decimals=settings.output.decimals, extra=extra,
                                   video_source=video if video is not None and video.exists() else None)
            report = Report.from_result(analysis)
            session = TrainingLog(self.db_url).add_set(report)
            summary: dict[str, Any] = {
                **meta, "session": session, "report_url": f"/sets/{outdir.name}/report.html",
                "rep_count": report.rep_count, "quality_rep_count": report.quality_rep_count,
                "exercise": report.exercise.name, "end_range_deg": _num(report.end_range_deg),
                "end_range_text": report.end_range_text,
                "cues": [c.text for c in report.cues[:3]],
            }
            if result is not None:
                summary["test"] = {
                    "end_range_deg": _num(result.end_range_deg), "at_or_below": result.at_or_below,
                    "confidence": result.confidence, "confidence_reason": result.confidence_reason,
                    "tries": [{"index": t.index, "result_deg": _num(t.result_deg), "how": t.how} for t in result.tries],
                    "comparison": result.comparison, "norms_deg": NORMS_DEG,
                }
            return SavedSet(set_id, summary)
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def close_recording(self, keep: bool = False) -> None:
        """Close the recording; remove its folder unless ``keep`` (finish removes it after use)."""
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
        if not keep and self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        self.running = False
        self.close_recording()
        self.backend.close()


def hello(settings: Settings, mode: Mode, target: int) -> dict[str, Any]:
    """The first message of a connection: the page's settings and the test's protocol."""
    return {
        "type": "hello", "mode": mode, "target": target, "modes": list(MODES),
        "cue_repeat_s": settings.serve.cue_repeat_s,
        "tries": settings.end_range_test.tries,
        "hold_target_s": settings.variations.hollow_hold_target_s,
        "min_descent_s": settings.assessment.min_descent_s,
        "protocol": PROTOCOL,
    }


__all__ = ["MODES", "FrameError", "LiveSession", "SavedSet", "decode_jpeg", "hello"]
