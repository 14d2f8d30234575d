"""Checks that a pose track shows one person, in frame, before anything is measured.

Each failed check raises :class:`VideoContentError` naming what was seen and what to do;
milder problems come back as warnings for the report.
"""

from __future__ import annotations

import numpy as np

from flatback.errors import VideoContentError
from flatback.settings import CheckSettings, GeometrySettings
from flatback.types import Landmark as L
from flatback.types import Note, NoteCode, PoseTrack

TRUNK = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP]


def _spans(t_s: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """Time spans (start_s, end_s) where ``flags`` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return [(float(t_s[a]), float(t_s[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


def _fmt_spans(spans: list[tuple[float, float]], limit: int = 3) -> str:
    text = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in spans[:limit])
    return text + (f" and {len(spans) - limit} more" if len(spans) > limit else "")


def trunk_in_frame(track: PoseTrack, min_visibility: float) -> np.ndarray:
    """(N,) bool: the shoulders and hips are found and inside the picture."""
    xy = track.xy_px[:, TRUNK]
    w, h = track.info.width, track.info.height
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= w) & (xy[..., 1] >= 0) & (xy[..., 1] <= h)
    seen = track.visibility[:, TRUNK] >= min_visibility
    # both hips and at least one shoulder: the lumbar span is in the picture
    hips = (inside & seen)[:, 2:].all(axis=1)
    shoulders = (inside & seen)[:, :2].any(axis=1)
    return hips & shoulders


def check_people(track: PoseTrack, checks: CheckSettings) -> list[Note]:
    """Raise when no person is found or two people exercise; a person found in only part
    of the video is measured there (:func:`trim_to_person`), and the note says so."""
    n = len(track)
    if n == 0:
        raise VideoContentError("The video has no frames to analyse.")
    scope = track.in_scope
    detected = track.detected
    if not detected.any():
        raise VideoContentError(
            "No person found in the video. Film the whole body from the side, in good light, "
            "with nothing in front of the camera."
        )
    found = float(detected[scope].mean()) if scope.any() else 0.0
    notes = []
    if found < checks.min_person_fraction:
        notes.append(Note(NoteCode.OUT_OF_FRAME, (
            f"A person is found in only {found:.0%} of the video (at {_fmt_spans(_spans(track.t_s, detected))}); "
            "only those times are measured. Film the whole exercise with the whole body in frame."
        )))
    if track.second_person is not None:
        searched = track.second_person >= 0
        if searched.sum() >= 2:
            share = float((track.second_person[searched] == 1).mean())
            if share >= checks.two_people_fraction:
                seen = track.t_s[track.second_person == 1][:4]
                raise VideoContentError(
                    f"Two people are in the video (a second person in {share:.0%} of the checked "
                    f"frames, e.g. at {', '.join(f'{t:.1f}' for t in seen)} s). flatback coaches "
                    "one person: film them alone."
                )
    return notes


def trim_to_person(track: PoseTrack, checks: CheckSettings, geometry: GeometrySettings) -> tuple[PoseTrack, list[Note]]:
    """Skip the stretches before the person is first in the picture and after they are
    last in it (a title, getting into position, walking to the camera): what is measured
    is the part that shows them, and the note says which times were left out. Raise when
    that part is too short to hold a rep (``checks.min_in_frame_s``)."""
    in_frame = trunk_in_frame(track, geometry.min_visibility) & track.in_scope
    if not in_frame.any():
        raise VideoContentError(
            "The person's trunk (shoulders and hips) is never wholly in the picture. Keep the whole body "
            "in frame: step the camera back or turn it to landscape."
        )
    first, last = np.flatnonzero(in_frame)[[0, -1]]
    keep = np.zeros(len(track), bool)
    keep[first : last + 1] = True
    left_out = track.in_scope & ~keep
    if not left_out.any():
        return track, []
    shown_s = float(track.t_s[last] - track.t_s[first])
    if shown_s < checks.min_in_frame_s:
        raise VideoContentError(
            f"The person's trunk is wholly in the picture for only {shown_s:.1f} s (at {track.t_s[first]:.1f}-"
            f"{track.t_s[last]:.1f} s), too short for a rep. Keep the whole body in frame for the whole set: "
            "step the camera back or turn it to landscape."
        )
    note = Note(NoteCode.OUT_OF_FRAME, (
        f"The person is not wholly in the picture at {_fmt_spans(_spans(track.t_s, left_out))} (before or after "
        "the set); only the part that shows them is measured."
    ))
    return track.only(keep), [note]


def check_in_frame(track: PoseTrack, checks: CheckSettings, geometry: GeometrySettings) -> list[Note]:
    """Raise if the trunk is out of the picture too often; warn about shorter spells."""
    in_frame = trunk_in_frame(track, geometry.min_visibility)
    scope = track.in_scope
    out = ~in_frame & scope  # skipped shots are left out on purpose, not lost
    share = float(out[scope].mean()) if scope.any() else 1.0
    if share > checks.max_out_of_frame_fraction:
        raise VideoContentError(
            f"The person's trunk is outside the picture or lost in {share:.0%} of the "
            f"video (at {_fmt_spans(_spans(track.t_s, out))}). Keep the whole body in frame: "
            "step the camera back or turn it to landscape."
        )
    warnings = []
    if out.any():
        warnings.append(Note(NoteCode.OUT_OF_FRAME, (
            f"The person was partly out of frame or lost at {_fmt_spans(_spans(track.t_s, out))}; "
            "those moments are not measured."
        )))
    return warnings


def side_view_ratio(track: PoseTrack) -> float:
    """Median shoulder width over torso length: small from the side, large from the front."""
    xy = track.xy_px
    width = np.linalg.norm(xy[:, L.LEFT_SHOULDER] - xy[:, L.RIGHT_SHOULDER], axis=1)
    torso = np.linalg.norm(
        (xy[:, L.LEFT_SHOULDER] + xy[:, L.RIGHT_SHOULDER]) / 2 - (xy[:, L.LEFT_HIP] + xy[:, L.RIGHT_HIP]) / 2, axis=1
    )
    ratio = width / torso
    return float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")


def has_skeleton_3d(track: PoseTrack) -> bool:
    """The pose backend gave a 3-D skeleton (shoulders and hips) in most frames that show
    the trunk. Of those frames, not of all: a person found in a third of an edited video's
    frames still has one (a keypoint file from a 2-D tool has none in any)."""
    seen = np.isfinite(track.xy_px[:, TRUNK]).all(axis=(1, 2))
    w = track.world_xyz_m[seen][:, TRUNK]
    return bool(seen.any() and np.isfinite(w).all(axis=(1, 2)).mean() >= 0.5)


def check_view(track: PoseTrack, checks: CheckSettings) -> None:
    """Without a 3-D skeleton, raise if the camera faces the person's front, head or feet
    instead of their side (a 2-D ratio is all there is to judge by). With one, the view
    is judged where it matters: what can be measured from it (``geometry``,
    ``clearance``), measured, and the rest marked with the reason."""
    if has_skeleton_3d(track):
        return
    ratio = side_view_ratio(track)
    if ratio > checks.front_view_ratio:
        raise VideoContentError(
            f"The camera sees the person from the front, head or feet (shoulder width is {ratio:.2f} of the "
            f"torso length; a side view gives under {checks.front_view_ratio:.2f}), and these keypoints carry no "
            "3-D skeleton: the leg angle cannot be measured (the legs point toward the camera, foreshortened, "
            "and nothing says by how much) and the lower back is out of sight, so nothing would be measured. "
            "Analyse the video itself (flatback's pose model estimates depth), or film from the side, camera at "
            "floor height, whole body in frame."
        )
