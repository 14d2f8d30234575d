"""flatback: a leg-lift form coach that measures every rep from a side-view video.

    import flatback as fb
    report = fb.analyze("leg_lifts.mp4")
    print(report.rep_count, [r.descent_s for r in report.reps])
"""

__version__ = "0.1.0"

from flatback.errors import FlatbackError  # noqa: E402
from flatback.pipeline import Analysis, Analyzer, analyze  # noqa: E402
from flatback.outputs.report import Report  # noqa: E402
from flatback.settings import Settings  # noqa: E402
from flatback.types import Frame, PoseFrame, PoseTrack, VideoInfo  # noqa: E402

__all__ = [
    "Analysis",
    "Analyzer",
    "FlatbackError",
    "Frame",
    "PoseFrame",
    "PoseTrack",
    "Report",
    "Settings",
    "VideoInfo",
    "analyze",
    "__version__",
]
