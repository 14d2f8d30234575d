"""Several people in real footage: composites built at test time from the development clips.

Nothing is copied into the project: each composite is made from ``../shared/clips`` into
pytest's temporary folder, written as H.264 and read back through flatback's own source,
then run through the multi-person backend, association and the exerciser choice.

- bystander: a man swinging his leg beside a chair (``neg_standing_front_leg_raise``,
  a region of the frame pasted as an inset) beside the studio double leg lift: the lifter
  is chosen, the standing man is named, and the rep count matches the single-person clip;
- twins: two copies of the studio lifter side by side, one mirrored and 1.5 s behind:
  two people exercising, refused with the times of each;
- panel: the same lifter twice, in step (a split screen): one is analysed, the other named.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from flatback.io.source import open_source
from flatback.measure.people import associate, choose_exerciser
from flatback.measure.shots import find_shots
from flatback.pipeline import Analyzer
from flatback.types import PoseTrack
from tests.conftest import clips_or_skip

LIFT = "double_leg_lift_studio.mp4"
STANDING = "neg_standing_front_leg_raise.mp4"
OUT_WH = (854, 480)  # composites are small: a 480p picture, a few seconds long
GREY = 236  # the studio backdrop


def decode(path, start_s: float = 0.0, stop_s: float = 1e9) -> list[tuple[float, np.ndarray]]:
    """(t_s from start_s, RGB image) of the frames in [start_s, stop_s)."""
    out = []
    with av.open(str(path)) as container:
        for f in container.decode(video=0):
            t = float(f.time)
            if t >= stop_s:
                break
            if t >= start_s:
                out.append((t - start_s, f.to_ndarray(format="rgb24")))
    return out


def resize(image: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def nearest(frames: list[tuple[float, np.ndarray]], t_s: float) -> np.ndarray:
    times = np.array([t for t, _ in frames])
    return frames[int(np.argmin(np.abs(times - t_s)))][1]


def write_h264(path, images: list[np.ndarray], fps: int = 30) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = images[0].shape[1], images[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def bystander_images(clips) -> list[np.ndarray]:
    """The whole studio lift (9 s) with the standing leg-swinger as an inset on the left."""
    lift = decode(clips / LIFT)
    man = decode(clips / STANDING, 19.3, 29.0)  # the wide shot of continuous leg swings
    images = []
    for t, image in lift:
        inset = resize(nearest(man, t)[20:240, 180:330], 270, 396)  # the man and his chair
        picture = image.copy()
        picture[120:516, 0:270] = inset  # the empty backdrop left of the lifter's head
        images.append(resize(picture, *OUT_WH))
    return images


def side_by_side_images(clips, lag_s: float, mirror: bool, duration_s: float = 4.0) -> list[np.ndarray]:
    """Two copies of the studio lifter side by side, the right one ``lag_s`` behind."""
    lift = decode(clips / LIFT, 0.0, duration_s + lag_s + 0.1)
    w, h = OUT_WH
    images = []
    for t, image in lift:
        if t >= duration_s:
            break
        right = nearest(lift, t + lag_s)
        if mirror:
            right = right[:, ::-1]
        canvas = np.full((h, w, 3), GREY, np.uint8)
        for x0, src in ((0, image), (w // 2, right)):
            canvas[120:360, x0 : x0 + w // 2] = resize(src[170:640, 230:1150], w // 2, 240)
        images.append(canvas)
    return images


def people_tracks(path, cache_dir) -> list[PoseTrack]:
    """Every person in the video, followed: MultiPose -> associate (bundle built in ``cache_dir``)."""
    from flatback.pose.multi import MultiPose, MultiPoseOptions

    source = open_source(path)
    backend = MultiPose(options=MultiPoseOptions(cache_dir=str(cache_dir)))
    try:
        frames = [backend(frame) for frame in source]
    finally:
        backend.close()
    return associate(frames, source.info, backend.name)


@pytest.fixture(scope="module")
def composite(tmp_path_factory):
    """composite(name) -> the person tracks of that composite, built and run once."""
    clips = clips_or_skip()
    for name in (LIFT, STANDING):
        if not (clips / name).exists():
            pytest.skip(f"{name} is not in {clips}")
    folder = tmp_path_factory.mktemp("people")
    builders = {
        "bystander": lambda: bystander_images(clips),
        "twins": lambda: side_by_side_images(clips, lag_s=1.5, mirror=True),
        "panel": lambda: side_by_side_images(clips, lag_s=0.0, mirror=False),
    }
    memo: dict[str, list[PoseTrack]] = {}

    def get(name: str) -> list[PoseTrack]:
        if name not in memo:
            path = folder / f"{name}.mp4"
            write_h264(path, builders[name]())
            memo[name] = people_tracks(path, folder)  # the .task bundle too: no trace left
        return memo[name]

    return get


def test_the_lifter_is_chosen_beside_a_standing_leg_swinger_and_counts_the_same_reps(composite, clip_track, labels):
    tracks = composite("bystander")
    chosen, notes = choose_exerciser(tracks)
    assert any(n.startswith("A standing person (left of the picture) at ") for n in notes), notes
    # the chosen one is the lifter: right of the inset, followed through most of the clip
    assert np.nanmedian(chosen.xy_px[:, 23, 0]) > 0.3 * chosen.info.width
    assert chosen.detected.mean() > 0.9
    single = Analyzer().analyze_track(clip_track(LIFT))
    chosen_report = Analyzer().analyze_track(chosen)
    assert chosen_report.exercise.name == single.exercise.name == "double_leg_lift"
    assert chosen_report.rep_count == single.rep_count == labels[LIFT]["rep_count"]
    shots = find_shots(tracks, np.zeros(len(chosen), bool))
    assert [s.kind for s in shots] == ["exercise"]


def test_two_people_exercising_side_by_side_are_refused_with_times(composite):
    from flatback.errors import VideoContentError

    with pytest.raises(VideoContentError) as err:
        choose_exerciser(composite("twins"))
    message = str(err.value)
    assert "Two people do the exercise side by side" in message
    assert "person 1 (left of the picture) at 0.0-" in message
    assert "person 2 (right of the picture) at " in message


def test_a_split_screen_of_the_same_lifter_analyses_one_picture(composite):
    chosen, notes = choose_exerciser(composite("panel"))
    assert any("second picture of the same person (split screen)" in n for n in notes), notes
    assert Analyzer().analyze_track(chosen).exercise.name == "double_leg_lift"


def test_the_task_bundle_is_built_from_the_wheel_once_and_agrees_with_the_legacy_model(tmp_path):
    """No download: the two models of the wheel plus metadata. On 1 s of the 720p studio
    clip the lifter's landmarks agree with the legacy solution's within a few px."""
    import zipfile

    from flatback.pose.mediapipe import MediaPipePose
    from flatback.pose.multi import MultiPose, MultiPoseOptions, task_bundle
    from flatback.types import Frame

    bundle = task_bundle(tmp_path)
    assert sorted(zipfile.ZipFile(bundle).namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
    built = bundle.stat().st_mtime_ns
    assert task_bundle(tmp_path) == bundle and bundle.stat().st_mtime_ns == built

    frames = [Frame(i, t, image) for i, (t, image) in enumerate(decode(clips_or_skip() / LIFT, 0.0, 1.0))]
    legacy, multi = MediaPipePose(), MultiPose(options=MultiPoseOptions(cache_dir=str(tmp_path)))
    try:
        pairs = [(legacy(f), multi(f)) for f in frames]
    finally:
        legacy.close()
        multi.close()
    assert all(len(people.people) == 1 for _, people in pairs)
    distance = np.stack([np.linalg.norm(one.xy_px - people.people[0].xy_px, axis=1) for one, people in pairs])
    assert np.median(distance) < 3.0  # px, at 1280x720 (measured 1.7)
    assert np.percentile(distance, 90) < 8.0
    assert all(people.people[0].mask is not None for _, people in pairs)
