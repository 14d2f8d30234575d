"""flatback: a leg-lift form coach that measures every rep from a side-view video.

    import flatback as fb
    report = fb.analyze("leg_lifts.mp4")            # report.json's content (pydantic)
    print(report.rep_count, [r.descent_s for r in report.reps])

    analysis = fb.Analyzer().run("leg_lifts.mp4")   # the typed domain results
"""

__version__ = "0.2.0"

from flatback.api import analyze  # noqa: E402
from flatback.errors import FlatbackError  # noqa: E402
from flatback.outputs.report import Report  # noqa: E402
from flatback.pipeline import Analysis, Analyzer  # noqa: E402
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
