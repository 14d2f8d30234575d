"""The analysis chain, offline: source -> pose -> measure -> analyse -> coach."""

from flatback.pipeline.offline import Analysis, Analyzer, analyze, is_keypoint_file

__all__ = ["Analysis", "Analyzer", "analyze", "is_keypoint_file"]
