"""Every threshold flatback uses: one pydantic tree, one section per pipeline stage.

Each field has a default, a unit (in its name or description) and the reason for its
value. Three faces share this one schema:

- Python: ``Settings()`` or ``Settings.load(toml_path, overrides)``;
- TOML: ``flatback config --dump`` writes the commented template generated from here;
- CLI: ``--config FILE`` and ``--set section.key=value`` (repeatable).

Values merge as defaults <- file <- overrides into a new object; nothing is mutated.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flatback.errors import SettingsError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Section):
    min_duration_s: float = Field(
        0.5, gt=0, description="Shortest video accepted, s. One rep needs more than this."
    )
    truncated_fraction: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Decoded duration below this fraction of the declared duration means "
        "the file is truncated (an interrupted copy or recording).",
    )


class PoseSettings(_Section):
    people: Literal["one", "all"] = Field(
        "all",
        description="Whom the pose stage follows (a name, no unit). all: every person is followed, the one "
        "doing the exercise is analysed, the others are named in a note, and the shots of an edited video "
        "that do not show the exercise are skipped (pose/multi.py, measure/people.py, measure/shots.py); "
        "one: BlazePose's single-person tracker (the live webcam mode's), and a clip with a second person "
        "is refused.",
    )
    max_rate_hz: float = Field(
        0.0,
        ge=0,
        description="Most frames per second the pose model sees in offline analysis (0: as many as "
        "pose.max_step_deg asks for, up to the video's own rate). A fixed cap costs what fast movements need: "
        "on ../shared/clips 15 kept rep counts and recognition but cut lowering times within 0.5 s from 88 % "
        "to 50 % of the labelled reps (the 0.5 s extensions of the 50 fps outdoor dead bug), and the frames "
        "posed were not filled in between. The annotated video draws the frames it shows "
        "(output.video_max_fps) either way.",
    )
    still_rate_hz: float = Field(
        6.0, ge=0,
        description="Frames per second the pose model always sees offline, moving or not (0: every frame, within "
        "pose.max_rate_hz); between them, frames are posed as fast as the legs turn (pose.max_step_deg), and "
        "the frames left out are filled in between the posed ones (pose/sampling.py). A movement that starts "
        "is seen within 1/6 s, while its speed is still a few percent of its peak (a minimum-jerk movement of "
        "1 s or longer), and a hold or a rest costs a fifth of a 30 fps clip's frames. On ../shared/clips and "
        "six re-filmings (eval tracks thinned after posing): rep counts, recognition, angles and back the same "
        "as every frame's, within one pair or rep, at a third of the frames posed.",
    )
    max_step_deg: float = Field(
        8.0, gt=0,
        description="Most a thigh or shin turns in the picture between two posed frames, deg, while the legs "
        "move (at the rate measured over pose.motion_window_s): a 4 s lowering is posed about 6 times a second "
        "at its fastest, a 1 s lift 20 times, a dead bug's extension every frame. A filled-in frame lies on "
        "the straight line between its neighbours, off the true path by at most acceleration x gap^2 / 8: "
        "under half a degree even for a 2 s lowering of 90 deg (130 deg/s^2, gaps of 0.1-0.17 s), well within "
        "the landmarks' own noise of a degree or two.",
    )
    motion_window_s: float = Field(
        0.1, gt=0,
        description="Shortest stretch of video, s, over which the legs' turn rate is measured to choose the "
        "next frame: over 0.1 s a landmark's frame-to-frame jitter of about a degree reads as 10 deg/s, "
        "under the 20-45 deg/s of the slowest lowering people do.",
    )
    processes: int = Field(
        0, ge=0,
        description="Processes that pose a long video's parts at once, offline, pose.people=all (0: one per CPU "
        "core; 1: one process). The pose model runs one inference thread, so one process keeps about one core "
        "busy; each part is posed by its own process and the parts' frames are stitched where both parts "
        "agree (pipeline/parts.py). On this 2-core machine the whole command on the 63.5 s 720p studio loop "
        "took 50 s with two parts against 78 s in one process (every frame posed; benchmarks/speed.py).",
    )
    part_min_s: float = Field(
        10.0, gt=0,
        description="Shortest stretch of video, s, a process poses (its share of the parts' work, overlap "
        "included): a new process costs about 2 s of one core to start (Python, mediapipe, the model), so "
        "shorter shares would spend more on starting than they save.",
    )
    part_overlap_s: float = Field(
        4.0, gt=0,
        description="Video, s, that a part poses before its own share starts, so its tracker has settled by the "
        "stitch: the second half of it is where the stitch frame is chosen. It holds two or more of the "
        "multi-person backend's 1 s searches, so a part follows as many people as the one before it does; the "
        "landmarks of two runs agree within a pixel a few frames after both track the person.",
    )
    part_agree_ratio: float = Field(
        0.01, gt=0,
        description="Largest median landmark distance, as a fraction of the person's size, at which two parts' "
        "frames count as the same (the stitch is made at the first such frame after the cut). Two runs of the "
        "tracker from different starts stay within 0.006 of each other on a filmed clip; a person lost or "
        "re-found elsewhere (at a shot cut) is off by 0.03 or more.",
    )
    min_detection_confidence: float = Field(
        0.5, ge=0, le=1, description="Person detector score (0-1) needed to start tracking: BlazePose's own default, which keeps stray detections out."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0, le=1, description="Landmark score (0-1) below which the tracker re-detects the person (BlazePose's own default)."
    )
    second_person_every_s: float = Field(
        1.0,
        gt=0,
        description="How often, s, the frame is searched for a second person with the "
        "tracked one masked out (BlazePose itself tracks only one).",
    )
    mask_threshold: float = Field(
        0.5, ge=0, le=1, description="Segmentation probability (0-1) counted as the person: the mask's own even odds."
    )
    mask_column_step_px: int = Field(
        2, ge=1, description="Spacing of the mask contour samples along the x axis of the picture the pose "
        "model sees (the frame, or the frame shrunk to pose.max_image_px), px."
    )
    denoise_min_noise: float = Field(
        3.0, ge=0,
        description="Pictures whose pixel noise reaches this, sd in 0-255 levels (pose/conditioning.py), are "
        "stretched to their own levels and smoothed before the pose model (0: never). Clean video measures 0-0.6 "
        "on ../shared/clips, the textured, compressed outdoor stock clip up to 2.6, their dim_noisy re-filming about "
        "4 (python -m flatback.pose.conditioning VIDEO); there the person detector lost the portrait arch clip's "
        "person for its first 4.5 s (flatback eval --only double_leg_lift_arch_then_flat --transform dim_noisy: 1 "
        "rep of 3 with this at 0, 4 with it).",
    )
    denoise_stop_noise: float = Field(
        2.5, ge=0,
        description="Once stretched and smoothed, pictures stay so until their noise falls below this, sd in "
        "0-255 levels: an estimate wavers by about half a level from second to second, and a clip near "
        "pose.denoise_min_noise would otherwise show the tracker two kinds of picture by turns.",
    )
    denoise_max_sigma_px: float = Field(
        1.5, ge=0,
        description="Largest Gaussian smoothing of a noisy picture, sd in px of the picture the model sees. The "
        "smoothing is what the model's resampling drops anyway (pose/conditioning.py smoothing_px: half a "
        "picture px per model px), capped here so that a person found only in the detector's 224 px view of a "
        "large picture keeps the detail the landmark model will look at.",
    )
    noise_every_s: float = Field(
        1.0, gt=0,
        description="How often the picture's noise is measured, s of video (a room's light changes slowly).",
    )
    max_image_px: int = Field(
        1280, ge=0,
        description="Longest side, px, of the picture the multi-person pose model sees (0: the frame as it is). "
        "Larger frames (1080p, 4K) are shrunk first and the landmarks and mask contours scaled back: the model "
        "sees a person's box at 256x256 px and returns its mask at that size, so a 1280 px picture still "
        "gives it every pixel it uses for anyone filling a fifth of the frame, while the full-size masks "
        "and pictures it would otherwise copy cost time and memory. No filmed clip in ../shared/clips is larger.",
    )


class CheckSettings(_Section):
    min_person_fraction: float = Field(
        0.5, ge=0, le=1,
        description="Found in fewer than this fraction of frames, the person is measured where found and the "
        "report says the rest was not (a clip edited from many shots, a person who walks in, poor light); "
        "a refusal would discard the part that shows them.",
    )
    min_in_frame_s: float = Field(
        2.0, gt=0,
        description="Shortest stretch, s, from the person's first to last moment wholly in the picture that is "
        "measured when the video also shows other things before or after it (a title, getting into position, "
        "walking away; those stretches are skipped and named): a rep is a lift and a lowering, at the fastest "
        "tempo people use about 1 s each.",
    )
    max_out_of_frame_fraction: float = Field(
        0.25, ge=0, le=1,
        description="Largest fraction of frames with the trunk (shoulders, hips) outside the "
        "picture or lost; beyond it the person left the frame.",
    )
    two_people_fraction: float = Field(
        0.3, ge=0, le=1,
        description="Fraction of searched frames with a second person above which the video "
        "shows two people (a stray detection in a busy room stays below it).",
    )
    front_view_ratio: float = Field(
        0.75,
        description="Median shoulder width / torso length above which the camera faces the "
        "person's front, head or feet instead of their side (side views give 0.1-0.5).",
    )


class RecognitionSettings(_Section):
    exercise: Literal[
        "auto", "double_leg_lift", "bent_knee_leg_lift", "single_leg_lift", "heel_tap", "hanging_leg_raise",
        "dead_bug", "hollow_hold", "not_leg_lift",
    ] = Field(
        "auto",
        description="The exercise in the clip (a name, no unit); auto recognises it "
        "(flatback analyze --exercise NAME forces it).",
    )

    # --- exercise recognition (flatback.analyse.recognize); angles in the body's frame ---
    min_visibility: float = Field(
        0.5, ge=0, le=1,
        description="Landmark visibility (fraction) below which a point is unseen: BlazePose extrapolates "
        "hidden joints and a guess is not a measurement.",
    )
    min_frames: int = Field(
        10, ge=1,
        description="Frames with the trunk seen, below which there is nothing to recognise (unknown, said so).",
    )
    smooth_hz: float = Field(
        3.0, gt=0,
        description="Low-pass cut-off for the leg and trunk angles, Hz: every exercise here moves at 1.5 Hz "
        "or slower (fast flutter kicks about 1.3 Hz); landmark jitter is faster.",
    )
    upright_min_trunk_deg: float = Field(
        58.0,
        description="Elevation of the trunk above the camera horizontal, deg (median), from which the body is "
        "upright (standing, hanging). A pinhole camera keeps vertical lines vertical except for its roll "
        "(upright reads >= 70 at 20 deg roll); a lying trunk seen 45 deg off the side from 30 deg above reads "
        "<= 47 (atan(tan 45 sin 30) + 20).",
    )
    upright_min_thigh_deg: float = Field(
        45.0,
        description="An upright body's thighs also hang below its hips at some moment: elevation of the hip "
        "above the knee, deg (95th percentile; standing or hanging 90 less roll and swing, >= 55). Propped "
        "on the elbows (trunk up to 45) or on a bench the thighs lie within about 20 of flat, plus roll.",
    )
    upright_sure_trunk_deg: float = Field(
        70.0,
        description="From this trunk elevation, deg (median), the body is upright whatever its thighs show: "
        "propped on the elbows the trunk rises at most 45, 65 with 20 deg of roll, while an upright trunk "
        "reads at least 70 with 20 deg of roll, so from 70 the thighs need not be seen hanging (a caption "
        "burned across them, a bar or a frame edge hiding the knees: a hanging raise straightened 12 deg "
        "and zoomed to fill its frame, knees cut off at every hang, reads 74).",
    )
    face_down_min_fraction: float = Field(
        0.5, ge=0, le=1,
        description="Fraction of frames with the face toward the floor from which the body is prone (a plank "
        "or similar). Lying, the face is within the camera roll of straight up or down, so its sign is safe.",
    )
    bridge_min_pelvis_lift: float = Field(
        0.25,
        description="Hips held above the shoulder-to-lower-foot line by this many torso lengths is a bridge: "
        "knees at a right angle put them about 0.5 up; lying on a floor, bench or bed they rest on that line "
        "within the body's thickness (about 0.1).",
    )
    bridge_min_knee_deg: float = Field(
        45.0,
        description="Knee flexion, deg, that a bridge needs (feet planted under the knees); a body lying on a "
        "bench with straight legs hanging below it also raises the hips above its foot line.",
    )
    overhead_min_arm_deg: float = Field(
        135.0,
        description="Upper arms raised this far from the trunk line, deg (0 at the sides, 180 overhead), put "
        "the hands above the head: hanging from a bar reads about 170; arms pointing up or out, 90.",
    )
    arms_up_min_torso: float = Field(
        0.5,
        description="Wrists in front of the shoulders by this many torso lengths point the arms up from a "
        "lying body (dead bug: about 1, an arm's length; arms at the sides or under the head: about 0). "
        "Leg lifts are done with the arms at the sides, overhead, under the hips or behind the head.",
    )
    moving_min_range_deg: float = Field(
        25.0,
        description="Range of a leg's angle, deg (5th to 95th percentile), from which it lifts and lowers; "
        "smaller is jitter, a hold or a fidget (the shallowest variation, a single-leg lift, moves about 30).",
    )
    lifting_min_range_deg: float = Field(
        30.0,
        description="Range of the legs' angle, deg, from which the legs clearly lift and lower, so a doubtful "
        "'not a leg lift' is measured anyway as the nearest leg-lift variation.",
    )
    fallback_max_confidence: float = Field(
        0.8, ge=0.5, le=1,
        description="A 'not a leg lift' or 'unknown' call below this confidence (a fraction, 0.5-1) is doubtful "
        "enough to measure the clip anyway when the legs clearly lift and lower while lying.",
    )
    still_max_speed_deg_s: float = Field(
        10.0,
        description="Leg speed, deg/s, below which the legs are held still (a controlled lowering moves about "
        "20 deg/s: 80 deg over a count of four).",
    )
    still_window_s: float = Field(
        0.3, gt=0,
        description="The legs' speed for still_max_speed_deg_s is their change across this window, s: "
        "frame to frame, the pose model's jitter (a degree or two a frame) reads as 10-30 deg/s on a held "
        "position. Longer windows steady it more but blur a hold's ends into the movements around it: a "
        "hollow hold's 1.5 s (a 3 s hold in a video sped up twice) loses a third of itself at 0.5 s.",
    )
    hold_min_leg_deg: float = Field(
        12.0,
        description="Legs this far from the trunk line, deg, are held off the floor rather than resting on it.",
    )
    hollow_min_still_fraction: float = Field(
        0.35, ge=0, le=1,
        description="Fraction of the clip with the legs held still off the floor from which it is a hold "
        "(a hollow hold is one long hold between a short entry and exit).",
    )
    hollow_max_leg_deg: float = Field(
        60.0,
        description="A hollow hold keeps the legs low, deg (about 30 off the floor); legs reaching higher "
        "(95th percentile) are lifts with pauses.",
    )
    together_max_alternate: float = Field(
        0.5,
        description="1 - correlation of the two legs' angles (a fraction, 0-2) below which they move together; 1 is "
        "independent, 2 opposite (above it they may take turns: turns_min_alternate).",
    )
    turns_min_alternate: float = Field(
        1.0,
        description="1 - correlation of the two legs' angles (a fraction, 0-2) above which they take turns: one "
        "leg down while the other is up reads anti-correlated, above 1 (the dead bugs and flutter kicks of the "
        "development clips 1.1-1.9). Between together_max_alternate and this the legs are only loosely "
        "coupled, which two legs fidgeting near still also read (a crunch's feet: 0.53); they alternate only "
        "if one moves alone (single_other_max_range_frac).",
    )
    alternate_min_apart_deg: float = Field(
        15.0,
        description="Alternating legs must also be apart by this much, deg (90th percentile), above the "
        "5-10 deg jitter of the far leg in a side view, so that legs held together do not count.",
    )
    straight_knee_max_deg: float = Field(
        35.0,
        description="Knee flexion, deg, up to which a leg counts as straight (DESIGN.md: a slight bend for "
        "tight hamstrings is fine); bent-knee variations work near 90.",
    )
    picture_straightens_max_deg: float = Field(
        70.0,
        description="A knee the picture shows straight (within straight_knee_max_deg) is taken at the picture's "
        "flexion only where the 3-D skeleton bends it less than this, deg: the skeleton's depth is the model's "
        "guess and bent a straight physio leg 37 deg filmed 40 deg off the side; a knee it bends near a right "
        "angle (a reverse crunch's, a heel tap's) is bent, however a camera high and far off the side "
        "foreshortens it in the picture.",
    )
    bent_knee_min_deg: float = Field(
        45.0,
        description="Median knee flexion of the straighter leg while the legs are lifted (the upper half of "
        "their range), deg, from which legs moving together are a bent-knee leg lift: halfway between a "
        "straight leg with a slight bend and tabletop's 90.",
    )
    tucked_knee_min_deg: float = Field(
        120.0,
        description="Both knees flexed past this throughout, deg, keep the heels by the buttocks: feet planted "
        "for a crunch. A bent-knee leg lift holds the knees at about 90 (DESIGN.md: heel taps from tabletop), "
        "and straightens them at some point in most sets.",
    )
    planted_knee_min_deg: float = Field(
        60.0,
        description="Knee flexion, deg, of a leg bent with the foot planted (crunch, single-leg lift's "
        "support leg: about 90-120) or of knees bent throughout (reverse crunch, heel taps).",
    )
    single_other_max_range_frac: float = Field(
        0.4,
        description="A single-leg lift moves one leg; the other's range stays below this fraction of the "
        "moving leg's (alternating variations move both about equally).",
    )
    kick_hysteresis_deg: float = Field(
        5.0,
        description="The legs' difference must swing this far either side of its median, deg, for a change "
        "of which leg is higher to count (above landmark jitter).",
    )
    flutter_min_rate_hz: float = Field(
        0.7,
        description="Alternations per second from which straight alternating legs are flutter kicks or "
        "scissors (about 1-2 per second); a controlled single-leg lift takes 2 s or more per side.",
    )
    flutter_max_leg_deg: float = Field(
        60.0,
        description="Flutter kicks and scissors keep the legs low, deg from the trunk line (95th percentile; "
        "about 15-40): fast up-and-down legs below this are kicks, not a hurried leg lift to vertical.",
    )
    curl_min_rise_deg: float = Field(
        20.0,
        description="Rise of the shoulders from the trunk's resting line, deg (95th percentile), from which "
        "the trunk itself curls up with the legs (V-up, jack-knife, sit-up: 30-60 from the side); a leg lift "
        "keeps the trunk down, a chin tuck or mini-crunch (DESIGN.md) tips it about 10.",
    )
    curl_min_coupling: float = Field(
        0.5,
        description="Correlation (a fraction, -1 to 1) of the shoulders' rise with the legs' angle from which trunk and legs rise "
        "together (V-up, jack-knife) rather than independently (a held head lift).",
    )
    reach_min_arm_sweep_deg: float = Field(
        60.0,
        description="Sweep of the arms about the shoulders, deg (95th - 5th percentile), from which the hands "
        "reach for the feet as in a V-up or jack-knife; a leg lift keeps the hands where they are (at the "
        "sides, under the hips or head, gripping overhead), under about 30.",
    )
    reach_max_coupling: float = Field(
        -0.5,
        description="Correlation (a fraction, -1 to 1) of the arms' angle with the legs' below which the hands sweep toward the "
        "feet as the legs rise (a hollow hold sweeps them overhead, away from the feet: positive).",
    )
    single_min_range_deg: float = Field(
        10.0,
        description="Range of the straight leg, deg, that a single-leg lift needs: physios lift it 30-45, "
        "which a view from the foot end foreshortens to about a third.",
    )
    rest_quantile_pct: float = Field(
        20.0, gt=0, lt=100,
        description="The trunk's resting line is its median over this percentage of frames with the legs "
        "lowest (lying flat between reps, or before and after a hold).",
    )
    confidence_scale_deg: float = Field(
        10.0, gt=0,
        description="Margin past an angle threshold, deg, worth a confidence of 0.88 (0.5 at the threshold): "
        "about the landmark error of a limb angle.",
    )
    confidence_scale_ratio: float = Field(
        0.15, gt=0,
        description="Margin past a threshold in torso lengths, fractions or correlations worth a confidence "
        "of 0.88.",
    )
    confidence_scale_hz: float = Field(
        0.2, gt=0,
        description="Margin past a rate threshold, Hz, worth a confidence of 0.88: about one kick more or less "
        "in a five-second clip.",
    )
    reverse_crunch_min_thigh_low_deg: float = Field(
        60.0,
        description="A reverse crunch starts from tabletop: the thighs' lowest angle from the trunk line, deg "
        "(5th percentile), stays above this; a bent-knee leg lift lowers the feet toward the floor "
        "(propped on the elbows the resting thighs read 30-45).",
    )
    reverse_crunch_min_pelvis_curl_deg: float = Field(
        15.0,
        description="Turn of the trunk as the pelvis curls up off the floor, deg, from which knees-to-chest "
        "from the floor is a reverse crunch; a leg lift keeps the pelvis down (a hip lift at the top of a "
        "straight-leg raise curls it too, but the knees stay straight).",
    )
    reverse_crunch_min_thigh_high_deg: float = Field(
        110.0,
        description="A reverse crunch curls the knees to the chest: thighs past vertical by 20 deg or more "
        "(95th percentile from the trunk line, deg); a leg lift stops near vertical (90).",
    )



class VariationSettings(_Section):
    """Per-variation rules (DESIGN.md, "Variations"), read by ``analyse/variations.py``."""

    hollow_hold_target_s: float = Field(
        20.0, description="Hollow-body hold target with the back flat, s (DESIGN.md: about 20 s as a warm-up)."
    )
    side_turn_min_visibility_ratio: float = Field(
        0.6, ge=0, le=1,
        description="One-leg variations: a rep counts only if the working leg's knee and ankle visibility at "
        "its turn is at least this fraction of the other leg's (and at least geometry.min_visibility, below "
        "which a point is unseen): a leg hidden behind the other is the pose "
        "model's guess, scored about half the seen leg (0.47-0.51 against 0.99 for a bent far leg behind a "
        "lifted near one). Relative, not absolute: a dim, captioned or oblique picture lowers every score "
        "(a far leg seen through one reads 0.59-0.67 against the near leg's 0.89-0.94, two thirds), a leg "
        "hidden behind the other only its own.",
    )
    side_turn_window_s: float = Field(
        0.2,
        description="Half-width of the window around a one-leg rep's turn over which that leg's "
        "visibility is averaged, s (a few frames: one blurred frame does not decide).",
    )
    arm_travel_ratio: float = Field(
        0.3,
        description="Dead bug: an arm whose wrist travels less than this in a rep, torso lengths, did "
        "not reach (a reach overhead moves the wrist about one torso length).",
    )
    hanging_swing_ratio: float = Field(
        0.4,
        description="Hanging leg raise: the hips swinging back behind the hands by more than this, torso "
        "lengths, is a kip from the lats rather than the abs curling the pelvis (a clean raise: about 0.2).",
    )
    pause_rep_min_s: float = Field(
        2.5,
        description="Double-leg lifts whose median bottom pause is at least this, s, are pause reps "
        "(DESIGN.md: a three-second pause, less the timing's half-second uncertainty).",
    )


class GeometrySettings(_Section):
    min_visibility: float = Field(
        0.5, ge=0, le=1, description="Landmark visibility (0-1) below which a point is treated as unseen: BlazePose's even odds that the point is in sight."
    )
    lying_max_trunk_tilt_deg: float = Field(
        35.0,
        description="Trunk (hip to shoulder) within this angle of the image horizontal "
        "counts as lying; used to find the floor line.",
    )
    picture_max_error_deg: float = Field(
        3.0,
        description="Leg angles are the picture's as it shows them while, from this camera (its turn off the "
        "side view and height, read once for the clip from the 3-D skeleton), the picture errs by at most "
        "this, deg; beyond it they are corrected for the camera's place. Below it the 3-D skeleton's own "
        "camera estimate is the larger error (floor-level side views of the development clips read "
        "10-18 deg of elevation).",
    )
    max_measurable_yaw_deg: float = Field(
        60.0,
        description="Beyond this many degrees off the side view, deg, the camera looks along the legs (from the "
        "feet or the head): they are foreshortened in the picture and even the 3-D estimate is rough; the "
        "report says so.",
    )
    max_camera_roll_deg: float = Field(
        20.0,
        description="Largest floor-line tilt in the image accepted as camera roll, deg; "
        "beyond it the person is not lying on the floor (or the camera is on its side).",
    )
    floor_agree_deg: float = Field(
        4.0,
        description="The mask's underside tangent is used as the floor when it is within "
        "this angle of the trunk line, deg; otherwise something else touches the floor under "
        "the body (a hand, a cushion) and the trunk line is the safer floor direction, reached "
        "gradually by twice this angle apart (a hard switch moved every leg angle of a 240x240 clip "
        "by 4 deg between two posings whose landmarks differed by under half a pixel).",
    )
    trunk_floor_offset_deg: float = Field(
        4.5,
        description="A lying person's hip-to-shoulder line is not parallel to the floor: the hip joints sit "
        "higher above it than the shoulder joints (buttocks and pelvis against flat shoulder blades), so the "
        "trunk line rises toward the feet by about this much, deg. Measured: the twin's MakeHuman bodies 4-6 "
        "(tests/twin/test_twin.py), BlazePose on the twin and real clips whose mask shows the floor contacts "
        "in docs/twin_validity.md. The trunk line is turned back by this much before it "
        "is compared with the mask's contact line (within floor_agree_deg: the mask is the floor) or stands in "
        "for the floor (compared as if parallel, the mask's floor was refused with the arms overhead on the "
        "twin and on three real clips, and every leg angle read about 5 deg low).",
    )
    legs_agree_deg: float = Field(
        20.0,
        description="Two legs whose angles differ by less than this move together; their "
        "angle is then averaged. Beyond it the lifted (higher) leg is the working leg.",
    )
    cut_size_change: float = Field(
        0.3,
        description="A change of the body's size by this fraction from one moment to the next "
        "(medians of 5 frames) is a cut to another shot; zooms and moves are slower.",
    )
    cut_jump_ratio: float = Field(
        0.5,
        description="A jump of the hips by this many torso lengths between the same medians "
        "is a cut as well.",
    )
    swap_margin: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Left/right labels are swapped back when the swapped assignment moves "
        "the joints less than this fraction of the unswapped motion.",
    )

    in_frame_margin_frac: float = Field(
        0.02,
        description="A landmark this far outside the picture, as a fraction of its width or height, is "
        "unseen: BlazePose extrapolates joints that leave the frame, often with a confident visibility.",
    )
    partial_min_visibility: float = Field(
        0.25, ge=0, le=1,
        description="Visibility (0-1) at which a knee or an ear still counts for the thigh-only leg angle "
        "and the head angle: the model places them well even half hidden, unlike an ankle.",
    )
    lying_leg_min_deg: float = Field(
        -30.0,
        description="Lying, leg angles below this, deg, are the pose model's mistakes and not measured: 30 "
        "below the floor line is through the floor (a resting leg reads about -5).",
    )
    lying_leg_max_deg: float = Field(
        150.0,
        description="Lying, leg angles above this, deg, are the pose model's mistakes and not measured: the legs "
        "would be folded over the face, beyond any leg-lift variation (a hip lift tips them to about 125); the "
        "first frames of a track sometimes place the feet at the head (180).",
    )
    hidden_ankle_min_visibility: float = Field(
        0.25, ge=0, le=1,
        description="Visibility (0-1) from which an ankle inside the picture but hidden (the far ankle behind "
        "the near leg) still gives the hip-to-ankle line, marked as estimated: the model places it from the "
        "body's shape (beside the near ankle when the legs move together), while the thigh alone misreads a "
        "bent leg by its knee bend (45 degrees in a tabletop). Ankles outside the picture are never used.",
    )
    legs_unsteady_deg: float = Field(
        8.0, ge=0,
        description="A leg whose reading jumps this far off the line through its neighbours' (median over "
        "geometry.legs_unsteady_window_s of posed frames, deg) is not being followed by the model and is left out "
        "of the working leg while the other leg is seen steadily (geometry.legs_unsteady_ratio; its own reading "
        "stays, for the one-leg variations): a smooth lift or lowering "
        "stays within a degree or two of that line at 15-30 frames a second, a fast kick's turn within about 13 "
        "for a frame. Its visibility score does not show it: a caption over the legs left a leg scored 0.99 "
        "jumping 20-40 deg from frame to frame.",
    )
    legs_unsteady_ratio: float = Field(
        3.0, ge=1,
        description="... and jumps at least this many times as far as the other leg: both legs shaking (a fast "
        "flutter kick, a blurred video) keep the usual rules.",
    )
    legs_unsteady_window_s: float = Field(
        0.5, gt=0,
        description="Video over which a leg's jumps are taken, s (centred offline, the last this long live): "
        "long enough for a median of several readings at 15 frames a second, short enough to end with a caption "
        "or an occlusion.",
    )
    legs_clear_visibility: float = Field(
        0.8, ge=0, le=1,
        description="Two legs apart and both at least this visible (0-1) are one lifted and one down (take "
        "the higher); less visible, the far leg is the model's guess (take the better-seen leg).",
    )
    arm_underside_ratio: float = Field(
        0.08,
        description="An elbow or wrist closer than this above the mask's underside, torso lengths, is an "
        "arm lying on the floor and forming the underside (a forearm is about 0.1 torso lengths thick).",
    )
    cut_window_frames: int = Field(
        5, ge=2,
        description="Frames whose medians are compared on either side of a possible cut, frames: a one- or "
        "two-frame glitch of the pose model leaves the medians alone.",
    )

class ClearanceSettings(_Section):
    max_floor_tilt_deg: float = Field(
        8.0,
        description="A frame's floor tangent (under buttocks and upper back) may tilt this far "
        "from the clip's floor line, deg; beyond it it rests on something else (a hand, a "
        "cushion) and the frame has no floor.",
    )
    max_hidden_fraction: float = Field(
        0.5, description="Share of the lumbar span hidden (arm, missing mask) above which the frame is occluded."
    )
    ragged_ratio: float = Field(
        0.02,
        description="Median bend of the underside contour between neighbouring samples, torso "
        "lengths, above which the mask is too ragged to read (loose clothing, poor segmentation).",
    )
    max_camera_elevation_deg: float = Field(
        20.0,
        description="Camera elevation above the floor, deg, beyond which the gap under the back "
        "is out of sight: a raised camera looks over the near side of the body.",
    )


class BackLiftSettings(_Section):
    baseline_min_leg_angle_deg: float = Field(
        60.0,
        description="Frames with the legs at least this high, deg, give the person's flat-back "
        "baseline (DESIGN.md: taken with legs vertical, back pressed); body shape and mat cancel out.",
    )
    margin_ratio: float = Field(
        0.025,
        description="Smallest clearance rise above the flat baseline that is a lift, torso "
        "lengths (about 1.2 cm). A flat back reads 0.0-0.04 and shifts by up to 0.02 as the "
        "pelvis follows the legs; an arch reads about 0.2. Lower it (to 0.005) for close, "
        "sharp, floor-level footage to catch the first millimetres of a lift.",
    )
    margin_noise_k: float = Field(
        4.0,
        description="...and at least this many times the reading's frame-to-frame jitter, so a "
        "noisy mask does not make lifts out of jitter.",
    )
    min_margin_px: float = Field(
        2.0,
        description="...and at least this many pixels: the mask's outline moves in pixel steps "
        "(a low-resolution video cannot see a gap of one pixel).",
    )
    min_lift_s: float = Field(
        0.2, description="A lift must last this long, s: a few frames, so one bad mask does not make a lift."
    )
    smooth_s: float = Field(0.2, description="Rolling-median window for the clearance, s.")
    rep_min_measured_fraction: float = Field(
        0.5,
        description="A rep whose lumbar span is readable in less than this share of its frames "
        "is 'occluded' (or 'unknown'), never 'flat'.",
    )
    setup_flat_max_ratio: float = Field(
        0.08,
        description="Clearance above this, torso lengths, before the first lowering means the "
        "back is not pressed flat at set-up (flat backs read 0.0-0.04).",
    )
    secondary_margin_ratio: float = Field(
        0.03,
        description="Rise of the waist's top contour above its baseline, torso lengths, that "
        "counts as a lift when the underside is hidden (secondary cue, lower confidence).",
    )

    onset_leave_fraction: float = Field(
        0.25,
        description="The onset is walked back to where the clearance rose above this fraction of the margin "
        "over its reference (0-1): the moment the back began to rise, not when the rise became certain.",
    )
    onset_min_rise_px: float = Field(
        0.5,
        description="...and at least this many pixels above it, px: the mask's outline moves in pixel steps, so "
        "a rise of less than a pixel cannot be told from its flicker (on the twin, a quarter of the margin "
        "was 0.6 px at 640x360 and the walk-back crossed flat readings, up to 13 deg early).",
    )
    onset_lead_s: float = Field(
        0.1,
        description="The onset search starts this long before the lowering does, s (the back may start "
        "rising in the frame the legs leave the top).",
    )
    baseline_min_frames: int = Field(
        5, ge=1, description="Frames with the legs up needed for a legs-up baseline, frames (else the lowest readings)."
    )
    baseline_percentile: float = Field(
        25.0,
        description="Percentile (0-100) of the legs-up readings taken as the flat level: someone who arches "
        "even at the top would otherwise set a baseline that hides every lift.",
    )
    fallback_percentile: float = Field(
        10.0, description="Percentile (0-100) of all readings taken as the flat level when the legs are never up."
    )
    no_legs_up_confidence: float = Field(
        0.5, ge=0, le=1,
        description="Factor (0-1) on a rep's back confidence without a legs-up baseline: the flat level is "
        "then a guess from the lowest readings.",
    )
    rep_occluded_fraction: float = Field(
        0.5, ge=0, le=1,
        description="A rep not judged is 'occluded' when at least this share (0-1) of its frames are hidden, "
        "else 'unknown'.",
    )

class SignalSettings(_Section):
    max_gap_s: float = Field(
        0.5, description="Longest gap, s, filled by interpolation; longer gaps stay missing."
    )
    outlier_window_s: float = Field(
        0.3, description="Window of the Hampel outlier filter, s (spikes shorter than half of it go)."
    )
    outlier_mads: float = Field(
        4.0, description="Deviation from the local level (the median, or near a stretch's ends its robust "
        "line), in MADs, that marks an outlier."
    )
    outlier_min_deg: float = Field(
        8.0, description="Deviations below this, deg, are never outliers (guards against MAD=0)."
    )
    lowpass_hz: float = Field(
        4.0,
        description="Zero-phase Butterworth cut-off, Hz. Leg lifts move below 1 Hz and a "
        "bounce lasts about 0.3 s; 4 Hz keeps both, rounds a sharp turn by under 0.1 s, and "
        "removes landmark jitter.",
    )
    causal_min_cutoff_hz: float = Field(
        1.0, description="One-euro filter cut-off at rest, Hz (frame-by-frame mode)."
    )
    causal_beta: float = Field(
        0.05,
        description="One-euro filter speed coefficient, 1/deg: at 60 deg/s the cut-off rises "
        "to 4 Hz, keeping the lag of a moving leg near 0.04 s.",
    )


class RepSettings(_Section):
    min_amplitude_deg: float = Field(
        20.0,
        description="Smallest leg-angle swing counted as a movement, deg (hysteresis of the "
        "turning-point detector); smaller wobbles are noise or adjustments.",
    )
    min_amplitude_frac: float = Field(
        0.35,
        description="A swing must also reach this fraction of the clip's largest swing, so "
        "a half-hearted twitch between reps does not count.",
    )
    pause_level_deg: float = Field(
        2.0,
        description="Samples within this many degrees of a turning point belong to its pause.",
    )
    pause_speed_frac: float = Field(
        0.2,
        description="Around a turning point the legs are pausing while they move slower than "
        "this fraction of the adjacent movements' steady speed.",
    )
    min_plateau_s: float = Field(
        0.15,
        description="A turning point still for at least this long, s, is a pause; a shorter "
        "one is a sharp turn (a bounce, or a turn the low-pass rounded), timed where the "
        "incoming and outgoing movements meet.",
    )
    rest: Literal["auto", "floor", "top"] = Field(
        "auto",
        description="Where reps rest. floor: each lift and lowering back to the floor is a "
        "rep. top: legs stay up, each lowering and return to vertical is a rep. auto: top "
        "when the clip starts and ends with the legs held up (its first and last readings within "
        "rest_tolerance_deg of the usual top, two lowerings or more), or when the legs rest on the "
        "floor at the start or end but never return to it between lowerings.",
    )
    edge_held_s: float = Field(
        0.5, ge=0,
        description="A clip (or a stretch between gaps) that opens or closes with the legs held this long, s (the "
        "leg reading within reps.rest_tolerance_deg of its level there, the thighs not moving that far the "
        "movement's way), opens or closes at rest whatever the thighs read there; a shorter one must have its "
        "thighs at their rest level too (within the rest tolerance): a clip caught mid-lift shows the legs "
        "moving from its first frame, and where a filled corner or the frame's edge hides the feet the pose "
        "model may guess them at the rest level while the thighs show the lift half done. Half a second: a "
        "person resting between reps stays at least that long.",
    )
    thigh_swing_frac: float = Field(
        0.75, ge=0,
        description="A rep must turn a seen thigh (hip to knee) through at least this fraction of the "
        "hysteresis (min_amplitude_deg, 20 deg or more) from one of its turning points to the next: a leg "
        "lift moves at the hip, and in the leg-lift family its thigh turns about as far as the leg line does "
        "or further (straight legs as far; a dead bug's thigh turns 90 degrees as its hip-ankle line turns "
        "45). A quarter of the hysteresis is left for the pose model's jitter at the two turns. A leg reading "
        "(hip to ankle) that moves while both thighs hold still is a knee bending alone or a misread ankle: "
        "a caption burned in over the feet pulls both ankles toward it. Only thighs that turn this far "
        "somewhere in the clip count (one the model pins in place is no evidence); a rep with none seen at "
        "its turns, or filmed from the feet or the head (legs measured on the 3-D skeleton), stands on the "
        "leg reading alone; 0 turns the check off.",
    )
    top_rest_min_gap_deg: float = Field(
        20.0,
        description="auto rest, a clip with only its start or its end on the floor: the lowerings between "
        "reps must stay this far above that floor level, deg, to be top-rest reps (an end range of about "
        "45 degrees, DESIGN.md): a floor-rest set whose bottoms read 10-20 degrees over its start, and "
        "which ends at them, stays floor-rest. With set-up and set-down both in view, lowerings further "
        "above both ends than reps.rest_tolerance_deg (the noise on a held position) are top-rest: a "
        "strong user's lowerings hover 15-20 degrees over the floor.",
    )
    rest_dwell_s: float = Field(
        0.5,
        ge=0,
        description="Live: a rep's last turning point counts as reached once the legs have stayed "
        "short of the hysteresis from it for this long, s, so the count comes as the rep ends, not "
        "when the next movement starts (offline results do not depend on it).",
    )
    live_level_tolerance_deg: float = Field(
        1.0,
        ge=0,
        description="Live: the legs dwell at a turn (see rest_dwell_s) while they stay within this "
        "many degrees of its extreme, deg. The causal filter settles into a still pause slowly, "
        "setting a new extreme by hundredths of a degree for a while; without it the dwell "
        "would restart at each.",
    )
    bottom_level_deg: float = Field(
        1.0, ge=0,
        description="Resting on the floor, a rep's bottom (the end of the lowering) is the first reading within "
        "this many degrees of the lowest, deg: where the legs got to the floor, not the lowest sample, which "
        "the pose model's noise places anywhere in the rest there. About the noise of a still leg after the "
        "low-pass; small, as a lowering that eases into the floor covers its last degrees slowly.",
    )
    bottom_window_s: float = Field(
        1.0, gt=0,
        description="Resting on the floor, a rep's bottom (the end of the lowering, reps.bottom_level_deg) is "
        "looked for up to this long after the lowering's arrival, s: the slow finish of a smooth lowering "
        "(about a quarter of a 4 s one); later the legs lie on the floor and noise alone picks the lowest "
        "reading.",
    )
    rest_tolerance_deg: float = Field(
        10.0,
        description="A clip that starts (ends) within this many degrees of the rest level "
        "starts (ends) at rest, so its first (last) rep is complete; one that starts and ends "
        "this close to the usual top is a top-rest set (rest=auto). The pose model's noise on a "
        "held position.",
    )
    rest_tolerance_frac: float = Field(
        0.25,
        description="...or within this fraction of the rep's own movement (the rest level to the rep's far "
        "turn), whichever is larger: the rest position is held with the pose model's noise and, in one-leg "
        "variations, the other leg's movement pulling the resting leg's reading; a clip that starts a quarter "
        "of the way into a movement shows nearly all of it. Of the rep's movement, not the clip's range: a clip "
        "whose later reps go higher does not make its first rep's missing part look smaller.",
    )
    hold_min_s: float = Field(
        2.0, description="A still period with the legs up this long, s, is a static hold."
    )
    hold_max_speed_deg_s: float = Field(
        12.0, description="Leg angular speed below which the legs count as still, deg/s."
    )
    hold_max_range_deg: float = Field(
        10.0, description="Largest leg-angle range inside a hold, deg."
    )
    hold_min_leg_angle_deg: float = Field(
        5.0, description="Legs below this angle, deg, rest on the floor: no hold."
    )


class AssessmentSettings(_Section):
    min_descent_s: float = Field(
        3.0,
        description="Shortest whole lowering (from leaving the top to reaching the bottom) that is not "
        "rushed, s. DESIGN.md asks for at least a count of four: said at a natural pace, 'one' to "
        "'four' spans three seconds.",
    )
    tempo_top_cap_deg: float = Field(
        95.0,
        description="Lying, movements are timed on the leg angle capped here, deg: past vertical (90) the "
        "legs tip toward the head as the pelvis curls up at the top (a hip lift), which is not part of the "
        "lowering a person counts; 5 degrees above vertical leaves a vertical top's own noise alone.",
    )
    tempo_arrival: Literal["fit", "extreme"] = Field(
        "fit",
        description="When a movement has arrived. 'fit': where the fitted step ends, so a slow creep after "
        "its fast part (a dead bug's heel settling, legs sinking the last degrees) is the pause; this is how "
        "the labels in ../shared/clips time the lowering. 'extreme': once the legs are within "
        "reps.pause_level_deg of the lowest (highest) point they reach, the creep counted as part of the "
        "lowering, as the lowerings read frame by frame in benchmarks/lowering_frames.json time it (issue 9).",
    )
    tempo_fit_window_s: float = Field(
        1.5,
        description="How much of the still stretch on either side of a movement its tempo fit sees, s: "
        "enough to find the still level (pauses at the top or bottom last about 0.5-1 s), never past a "
        "neighbouring movement.",
    )
    tempo_fit_speed_frac: float = Field(
        0.15,
        ge=0.0,
        lt=1.0,
        description="The tempo fit sees a movement down to this fraction of its peak speed on either side. "
        "A minimum-jerk movement is slower than 15 % of its peak only in its first and last 11 % of time, "
        "where it covers about 1 % of its range (the fitted shape extrapolates those ends); a drift slower "
        "than that after arriving (a dead bug's heel settling through the hold, legs sinking in a bottom "
        "pause) belongs to the pause and would otherwise drag the fitted end late.",
    )
    momentum_ascent_ratio: float = Field(
        0.5,
        description="Ascent shorter than this fraction of the descent, with a fast peak "
        "speed, is momentum ('fast ascent').",
    )
    momentum_min_speed_deg_s: float = Field(
        120.0,
        description="Peak upward speed, deg/s, above which a short ascent is a swing rather "
        "than a brisk but controlled return.",
    )
    overshoot_deg: float = Field(
        105.0, description="Max leg angle beyond this, deg, swings past vertical: 'overshoot'."
    )
    bounce_max_pause_s: float = Field(
        0.1, description="A bottom turn shorter than this, s, with fast speed on both sides, is a bounce."
    )
    bounce_min_speed_deg_s: float = Field(
        90.0, description="Speed into and out of the bottom, deg/s, that makes a short turn a bounce."
    )
    pelvis_lift_ratio: float = Field(
        0.12,
        description="Hip rise above the floor during the ascent, as a fraction of torso "
        "length, that counts as the pelvis swinging up.",
    )
    knee_bent_deg: float = Field(
        30.0,
        description="Knee flexion above this, deg, is a bent-knee lift; below it a slight "
        "bend is allowed for tight hamstrings (DESIGN.md).",
    )
    head_lift_deg: float = Field(
        20.0,
        description="Head (shoulder-to-ear line) raised this many degrees above the person's "
        "own lying baseline counts as head lifted (an allowed aid).",
    )

    slight_knee_bend_deg: float = Field(
        15.0,
        description="Peak knee flexion above this, deg, but a mean under knee_bent_deg, is a slight bend: an "
        "allowed aid for tight hamstrings (DESIGN.md), noted, not faulted.",
    )
    head_rest_percentile: float = Field(
        10.0,
        description="Percentile (0-100) of the head angle taken as the person's own head-down level: the "
        "head rests on the floor most of the time it is not lifted.",
    )

class EndRangeTestSettings(_Section):
    """The double-leg-lowering test (``coach/end_range_test.py``)."""

    tries: int = Field(3, ge=1, description="Tries in the test, reps (the physiotherapy protocol: three).")
    max_spread_deg: float = Field(
        10.0,
        description="Tries within this many degrees of each other agree, deg (about the labels' and the "
        "pressure cuff's own repeatability): three such tries give a high confidence.",
    )
    min_seen_fraction: float = Field(
        0.6,
        description="Below this share (0-1) of the tries' frames with the lower back in sight, the result "
        "is low confidence whatever the spread.",
    )
    norm_band_deg: float = Field(
        5.0,
        description="Within this many degrees of a published mean is 'about the mean', deg (half the "
        "spread two tries may show).",
    )


class PlanSettings(_Section):
    """Programming rules of DESIGN.md ("Programming"), read by ``coach/plan.py``."""

    min_gap_h: float = Field(48.0, description="Rest between sessions, h (twice a week, not every day).")
    sessions_per_week: int = Field(2, ge=1, description="Sessions in any 7 days, count (DESIGN.md: twice a week).")
    good_end_range_deg: float = Field(
        45.0,
        description="An end range at or below this is held low, deg (about the college athletes' norm of "
        "the double-leg-lowering test): a condition to progress.",
    )
    early_lift_deg: float = Field(
        60.0,
        description="The back lifting above this leg angle is early, deg (well short of the adolescents' "
        "mean of 72 and of the athletes' ~50): regress one step.",
    )
    lifted_share: float = Field(
        0.3,
        description="More than this share (0-1) of reps with the back lifting means the step is too hard: regress.",
    )
    easy_reps_per_set: int = Field(
        30, description="This many reps in one set, reps, is too easy to be honest work (DESIGN.md: fifty easy reps means cheating)."
    )
    easy_reps_per_session: int = Field(
        50, description="...or this many in a session, reps (DESIGN.md's fifty easy reps)."
    )


class ServeSettings(_Section):
    """The live coach in the browser, ``flatback serve`` (``web/``, ``pipeline/setup_check.py``)."""

    set_target_reps: int = Field(
        10, ge=1, le=100,
        description="Reps in a live set, reps, before its summary (DESIGN.md's programming: 10-15 quality reps).",
    )
    setup_window_s: float = Field(
        1.0, gt=0,
        description="The set-up check judges the last this many seconds of frames, s: long enough to ride over "
        "a bad frame, short enough to turn green within a second of the fix.",
    )
    setup_min_frames: int = Field(
        5, ge=1,
        description="Frames with the body seen before the set-up check judges anything, frames (the camera "
        "elevation and the view are medians).",
    )
    cue_repeat_s: float = Field(
        6.0, ge=0,
        description="The same cue is not spoken again within this many seconds, s: once per rep at the tempo "
        "of DESIGN.md (about 6-8 s a rep) is coaching, more is nagging.",
    )
    max_upload_mb: float = Field(
        500.0, gt=0,
        description="Largest video the upload page takes, MB (10^6 bytes): about 10 minutes of phone video "
        "at 1080p; bigger is refused before it is stored.",
    )
    max_frame_kb: float = Field(
        1000.0, gt=0,
        description="Largest live frame (a JPEG), kB: a 640x480 JPEG at high quality is about 100 kB; "
        "anything much larger is not a camera frame.",
    )
    max_frame_px: int = Field(
        1920, ge=64,
        description="Largest side of a live frame, px: the page sends 640x480; up to full HD is accepted, "
        "larger costs the pose model more than it gains.",
    )


class OutputSettings(_Section):
    decimals: int = Field(3, ge=0, le=6, description="Decimals written in report.json and timeseries.csv.")
    video_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = Field(
        "ultrafast",
        description="x264 speed preset of annotated.mp4 (a name, no unit): ultrafast keeps the annotated video's "
        "cost within a quarter of the analysis (every frame is decoded again, and those shown drawn and encoded, "
        "while the pose model sees a third of them); measured on the 720p studio clip, ultrafast took 0.78 of "
        "superfast's CPU for files about twice as large (1.9 MB for 9 s). Slower presets make smaller files.",
    )
    video_max_fps: float = Field(
        15.0, ge=0,
        description="Most frames per second in annotated.mp4, 1/s (0: the source's own rate): every 2nd frame of a "
        "24-30 fps video, every 4th of a 60 fps one, evenly spaced. Leg lifts are slow (a 4 s lowering, a 0.5 s "
        "dead-bug extension still spans 6 frames at 12 a second) and the skeleton between posed frames is drawn "
        "in between anyway, while drawing and encoding a frame cost about as much as the analysis spends on it: "
        "on the 720p 30 fps studio clip looped to a minute (benchmarks/video_cost.py, one run) writing every "
        "frame took 35-39 % of the analysis's wall time, every 2nd 20-21 %; the aim is 25 %.",
    )
    video_crf: int = Field(
        26, ge=0, le=51,
        description="x264 constant-rate factor of annotated.mp4 (no unit, 0-51; lower is better quality and larger): 26 "
        "keeps the drawn text and lines sharp.",
    )


class Settings(_Section):
    """All of flatback's thresholds. Build with ``Settings.load`` to merge a TOML file
    and ``section.key=value`` overrides over the defaults."""

    source: SourceSettings = SourceSettings()
    pose: PoseSettings = PoseSettings()
    checks: CheckSettings = CheckSettings()
    recognition: RecognitionSettings = RecognitionSettings()
    variations: VariationSettings = VariationSettings()
    geometry: GeometrySettings = GeometrySettings()
    clearance: ClearanceSettings = ClearanceSettings()
    back_lift: BackLiftSettings = BackLiftSettings()
    signals: SignalSettings = SignalSettings()
    reps: RepSettings = RepSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    end_range_test: EndRangeTestSettings = EndRangeTestSettings()
    plan: PlanSettings = PlanSettings()
    serve: ServeSettings = ServeSettings()
    output: OutputSettings = OutputSettings()

    @classmethod
    def load(
        cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None
    ) -> Settings:
        """Defaults, then the TOML file at ``path``, then ``{"section.key": value}``."""
        data: dict[str, dict[str, Any]] = {}
        if path is not None:
            path = Path(path)
            try:
                data = tomllib.loads(path.read_text())
            except FileNotFoundError:
                raise SettingsError(f"Settings file not found: {path}") from None
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise SettingsError(f"Cannot read settings file {path}: {e}") from None
        for dotted, value in (overrides or {}).items():
            section, _, key = dotted.partition(".")
            if not key or section not in cls.model_fields:
                raise SettingsError(
                    f"Unknown setting {dotted!r}: use section.key, sections are "
                    f"{', '.join(cls.model_fields)} (see `flatback config --dump`)."
                )
            data.setdefault(section, {})[key] = value
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
            )
            raise SettingsError(f"Invalid settings: {problems}") from None

    def replace(self, **overrides: Any) -> Settings:
        """A copy with ``section__key=value`` (Python-friendly) overrides applied."""
        dotted = {k.replace("__", ".", 1): v for k, v in overrides.items()}
        return Settings.load(None, {**_flatten(self), **dotted})


def _flatten(settings: Settings) -> dict[str, Any]:
    return {
        f"{section}.{key}": value
        for section, values in settings.model_dump().items()
        for key, value in values.items()
    }


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``section.key=value`` CLI override; the value is read as TOML."""
    key, sep, raw = text.partition("=")
    if not sep:
        raise SettingsError(f"Override {text!r} must look like section.key=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as floor: keep it as a string
    return key.strip(), value


def dump_toml_template(settings: Settings | None = None) -> str:
    """The commented TOML template: every setting with its value, unit and reason."""
    settings = settings or Settings()
    lines = ["# flatback settings. Pass with --config FILE; any key may be left out.", ""]
    for section in Settings.model_fields:
        sub = getattr(settings, section)
        lines.append(f"[{section}]")
        for key, info in type(sub).model_fields.items():
            lines.append(f"# {info.description}")
            lines.append(f"{key} = {_toml_value(getattr(sub, key))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
