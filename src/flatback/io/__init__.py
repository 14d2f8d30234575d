"""Reading the input: video files (PyAV), webcams and keypoint files."""
