"""Scripts of the movement over time: what the twin does, second by second.

A script is keyframed channels (smoothly interpolated) plus the arm position. The helper
``leg_lowering_script`` builds the DESIGN.md protocol: legs up from the floor (set-up), a
still hold at vertical (the flat-back baseline), n lowerings and returns, set-down; the lower
back lifts by ``lift_cm`` once the legs pass below ``onset_deg``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flatback.twin.pose import PoseParams

EXT_DEG_PER_CM = 5.0  # lumbar extension (and matching pelvis tilt) per cm of arch


@dataclass(frozen=True)
class Channel:
    """Keyframes of one value: times (s, increasing) and values; smoothstep between them."""

    t_s: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self):
        if len(self.t_s) != len(self.values) or not self.t_s:
            raise ValueError(f"Channel needs equal, non-empty t_s and values, got "
                             f"{len(self.t_s)} and {len(self.values)}")
        if np.any(np.diff(self.t_s) < 0):
            raise ValueError(f"Channel.t_s must increase, got {self.t_s}")

    def __call__(self, t_s: float | np.ndarray) -> np.ndarray:
        """Value(s) at ``t_s`` (held constant outside the keyframes)."""
        t = np.asarray(t_s, float)
        k = np.clip(np.searchsorted(self.t_s, t, side="right") - 1, 0, len(self.t_s) - 1)
        k1 = np.minimum(k + 1, len(self.t_s) - 1)
        t0, t1 = np.asarray(self.t_s)[k], np.asarray(self.t_s)[k1]
        v0, v1 = np.asarray(self.values)[k], np.asarray(self.values)[k1]
        u = np.where(t1 > t0, np.clip((t - t0) / np.where(t1 > t0, t1 - t0, 1), 0, 1), 0.0)
        u = u * u * (3 - 2 * u)
        return v0 + (v1 - v0) * u


def constant(value: float) -> Channel:
    """A channel that never changes."""
    return Channel((0.0,), (value,))


@dataclass(frozen=True)
class MovementScript:
    """The movement over ``duration_s`` seconds. ``lift`` maps leg angle (deg) to the lumbar
    arch (cm) as (onset_deg, ramp_deg, lift_cm): zero above onset, full below onset - ramp.
    ``reps_s``: (start, bottom, end) times, s, of the reps a person would count."""

    duration_s: float
    leg_angle_deg: Channel
    knee_bend_deg: Channel = field(default_factory=lambda: constant(0.0))
    pelvis_tilt_deg: Channel = field(default_factory=lambda: constant(0.0))
    head_lift_deg: Channel = field(default_factory=lambda: constant(0.0))
    arms: str = "chest"
    lift: tuple[float, float, float] = (45.0, 8.0, 0.0)
    reps_s: tuple[tuple[float, float, float], ...] = ()

    def lumbar_lift_cm(self, leg_angle_deg: float | np.ndarray) -> np.ndarray:
        """Arch of the lower back (cm) as a function of the leg angle (deg)."""
        onset, ramp, size = self.lift
        u = np.clip((onset - np.asarray(leg_angle_deg, float)) / max(ramp, 1e-6), 0.0, 1.0)
        return size * u * u * (3 - 2 * u)

    def at(self, t_s: float) -> PoseParams:
        """The pose at time ``t_s`` (s)."""
        leg = float(self.leg_angle_deg(t_s))
        lift = float(self.lumbar_lift_cm(leg))
        return PoseParams(
            leg_angle_deg=leg,
            knee_bend_deg=float(self.knee_bend_deg(t_s)),
            lumbar_ext_deg=EXT_DEG_PER_CM * lift,
            lumbar_lift_cm=lift,
            pelvis_tilt_deg=float(self.pelvis_tilt_deg(t_s)),
            head_lift_deg=float(self.head_lift_deg(t_s)),
            arms=self.arms,
        )

    def lift_onsets(self, step_s: float = 1e-3) -> list[tuple[float, float]]:
        """(onset time s, leg angle deg) of each back lift: where the arch starts to grow."""
        if self.lift[2] <= 0:
            return []
        t = np.arange(0.0, self.duration_s + step_s, step_s)
        lifted = self.lumbar_lift_cm(self.leg_angle_deg(t)) > 0
        starts = np.flatnonzero(lifted[1:] & ~lifted[:-1]) + 1
        return [(float(t[i]), float(self.leg_angle_deg(t[i]))) for i in starts]


def leg_lowering_script(
    n_reps: int = 2,
    onset_deg: float = 45.0,
    lift_cm: float = 2.0,
    bottom_deg: float = 15.0,
    descent_s: float = 4.0,
    ascent_s: float = 1.5,
    pause_s: float = 0.6,
    arms: str = "chest",
    knee_bend_deg: float = 0.0,
    head_lift_deg: float = 0.0,
    ramp_deg: float = 8.0,
) -> MovementScript:
    """The DESIGN.md protocol: set-up lift to vertical, baseline hold, ``n_reps`` lowerings to
    ``bottom_deg`` and returns to vertical, then the set-down to the floor. Times in s."""
    t, legs = [0.0, 1.0, 3.0, 4.5], [0.0, 0.0, 90.0, 90.0]
    reps = []
    for _ in range(n_reps):
        reps.append((t[-1], t[-1] + descent_s + pause_s / 2,
                     t[-1] + descent_s + pause_s + ascent_s))
        t += [t[-1] + descent_s, t[-1] + descent_s + pause_s,
              t[-1] + descent_s + pause_s + ascent_s, t[-1] + descent_s + 2 * pause_s + ascent_s]
        legs += [bottom_deg, bottom_deg, 90.0, 90.0]
    t += [t[-1] + 2.5, t[-1] + 3.5]
    legs += [0.0, 0.0]
    return MovementScript(
        duration_s=t[-1],
        leg_angle_deg=Channel(tuple(t), tuple(legs)),
        knee_bend_deg=constant(knee_bend_deg),
        head_lift_deg=constant(head_lift_deg),
        arms=arms,
        lift=(onset_deg, ramp_deg, lift_cm),
        reps_s=tuple(reps),
    )
