"""The analysis chain: source -> pose -> measure -> analyse -> coach, offline (and live)."""

from flatback.pipeline.offline import Analysis, Analyzer, Measured, is_keypoint_file, select_exerciser

__all__ = ["Analysis", "Analyzer", "Measured", "is_keypoint_file", "select_exerciser"]
