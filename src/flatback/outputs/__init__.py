"""Outputs: report.json (the wire schema), timeseries.csv, report.html, annotated.mp4."""
