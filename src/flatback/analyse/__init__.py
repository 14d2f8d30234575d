"""Analysis: reps and holds, back lift, recognition, variations and per-rep assessment."""
