"""Rendering the twin: pyrender (OpenGL) on Mesa's software rasteriser, no GPU.

OSMesa (Debian ``libosmesa6``) is used when present, else EGL on Mesa's llvmpipe; set
``PYOPENGL_PLATFORM`` to force one. Scene frame: metres, floor Y = 0, X toward the body's
head, Z toward the body's left side (a camera at +Z sees the left side).
"""

from __future__ import annotations

import ctypes.util
import os
import zlib
from dataclasses import dataclass

import numpy as np

from flatback.twin.body import PARTS, Body
from flatback.twin.pose import PosedBody

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class CameraSpec:
    """Where the phone is. height_m: lens above the floor; distance_m: horizontal distance
    from the body's mid-line; yaw_deg: off the pure side view, around the vertical (positive
    toward the head); roll_deg: about the optical axis; hfov_deg: horizontal field of view;
    look_at_y_m: height of the point looked at above the floor; along_m: X of the point looked
    at (the body's hip is near X = 0, its head near X = +0.7).
    """

    height_m: float = 0.1
    distance_m: float = 2.6
    yaw_deg: float = 0.0
    roll_deg: float = 0.0
    hfov_deg: float = 65.0
    look_at_y_m: float = 0.35
    along_m: float = 0.0


@dataclass(frozen=True)
class Appearance:
    """Colours (sRGB 0-255) and textures. floor: 'wood', 'carpet' or 'tiles';
    wall: 'plain' or 'noise'. seed drives the procedural textures."""

    skin: RGB = (201, 152, 120)
    top: RGB = (40, 70, 140)
    bottom: RGB = (30, 30, 35)
    hair: RGB = (50, 35, 25)
    shoe: RGB = (230, 230, 230)
    floor: str = "wood"
    floor_rgb: RGB = (170, 130, 90)
    wall_rgb: RGB = (205, 200, 190)
    wall: str = "noise"
    seed: int = 0


@dataclass(frozen=True)
class Lights:
    """Key light (directional) direction toward the light in the scene frame and intensity;
    ambient level in [0, 1]; shadows from the key light."""

    key_dir: tuple[float, float, float] = (0.3, 1.0, 0.6)
    key_intensity: float = 3.0
    fill_intensity: float = 1.2
    ambient: float = 0.35
    shadows: bool = False


@dataclass(frozen=True)
class RenderOutput:
    """rgb: (H, W, 3) uint8. silhouette: (H, W) bool, the body alone (nothing occludes it
    but itself). joints_px: name -> (2,) image x, y in px. view_proj: (4, 4) matrix."""

    rgb: np.ndarray
    silhouette: np.ndarray
    joints_px: dict[str, np.ndarray]
    view_proj: np.ndarray


def _choose_platform() -> None:
    """OSMesa when Debian's libosmesa6 and PyOpenGL >= 3.1.4 are there (faster), else EGL.

    pyrender pins PyOpenGL 3.1.0, whose OSMesa binding lacks OSMesaCreateContextAttribs;
    EGL on Mesa's llvmpipe works with it. An explicit PYOPENGL_PLATFORM wins.
    """
    if "PYOPENGL_PLATFORM" in os.environ:
        return
    from importlib.metadata import version

    pyopengl = tuple(int(p) for p in version("PyOpenGL").split(".")[:3] if p.isdigit())
    osmesa = ctypes.util.find_library("OSMesa") is not None and pyopengl >= (3, 1, 4)
    os.environ["PYOPENGL_PLATFORM"] = "osmesa" if osmesa else "egl"


def look_at(eye: np.ndarray, target: np.ndarray, roll_deg: float) -> np.ndarray:
    """Camera-to-world 4x4 (OpenGL: camera looks along its -Z, Y up), rolled about its axis."""
    fwd = target - eye
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    c, s = np.cos(np.radians(roll_deg)), np.sin(np.radians(roll_deg))
    right, up = c * right + s * up, -s * right + c * up
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, up, -fwd, eye
    return m


def camera_pose(cam: CameraSpec) -> np.ndarray:
    """Camera-to-world matrix for ``cam`` (side view from +Z, rotated by yaw about Y)."""
    yaw = np.radians(cam.yaw_deg)
    eye = np.array([cam.along_m + cam.distance_m * np.sin(yaw), cam.height_m,
                    cam.distance_m * np.cos(yaw)])
    target = np.array([cam.along_m, cam.look_at_y_m, 0.0])
    return look_at(eye, target, cam.roll_deg)


def projection(cam: CameraSpec, width: int, height: int) -> np.ndarray:
    """OpenGL perspective projection (4x4) for ``cam`` at width x height px."""
    aspect = width / height
    yfov = 2 * np.arctan(np.tan(np.radians(cam.hfov_deg) / 2) / aspect)
    near, far = 0.05, 50.0
    f = 1 / np.tan(yfov / 2)
    return np.array([[f / aspect, 0, 0, 0], [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                     [0, 0, -1, 0]])


def project_px(points_m: np.ndarray, view_proj: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scene points (N, 3) metres -> image (N, 2) px (x right, y down, pixel centres at .5)."""
    hom = np.concatenate([points_m, np.ones((len(points_m), 1))], axis=1) @ view_proj.T
    ndc = hom[:, :2] / hom[:, 3:4]
    return np.stack([(ndc[:, 0] + 1) * width / 2, (1 - ndc[:, 1]) * height / 2], axis=1)


def _rng_texture(app: Appearance, kind: str, size: int = 512) -> np.ndarray:
    """A procedural texture (size, size, 3) uint8."""
    # zlib.crc32, not hash(): Python salts str hashes per process, which made every render's
    # textures (and so the twin's regression tests) differ from run to run
    rng = np.random.default_rng(app.seed + zlib.crc32(kind.encode()) % 1000)
    base = np.array(app.floor_rgb if kind != "wall" else app.wall_rgb, np.float32)
    yy, xx = np.mgrid[0:size, 0:size] / size
    noise = rng.normal(0, 1, (size // 8, size // 8)).astype(np.float32)
    noise = np.kron(noise, np.ones((8, 8), np.float32))
    if kind == "wood":
        plank = (xx * 6).astype(int)
        tone = rng.uniform(-18, 18, 6)[plank]
        grain = 8 * np.sin(yy * 80 + 3 * np.sin(xx * 40 + plank)) + 4 * noise
        gap = ((xx * 6) % 1 < 0.015) * -60
        img = base + (tone + grain + gap)[..., None]
    elif kind == "tiles":
        grout = (((xx * 8) % 1 < 0.03) | ((yy * 8) % 1 < 0.03)) * 70
        img = base + (grout + 3 * noise)[..., None]
    elif kind == "carpet":
        fine = rng.normal(0, 10, (size, size))
        img = base + (fine + 6 * noise)[..., None]
    else:  # wall
        img = base + (6 * noise if app.wall == "noise" else 0 * noise)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _textured_quad(corners: np.ndarray, image: np.ndarray, repeat: float):
    import pyrender
    import trimesh
    from PIL import Image

    uv = np.array([[0, 0], [repeat, 0], [repeat, repeat], [0, repeat]], np.float64)
    tm = trimesh.Trimesh(corners, [[0, 1, 2], [0, 2, 3]], process=False)
    tm.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(image))
    mat = pyrender.MetallicRoughnessMaterial(
        baseColorTexture=pyrender.Texture(source=image, source_channels="RGB",
                                          sampler=pyrender.Sampler(wrapS=10497, wrapT=10497)),
        metallicFactor=0.0, roughnessFactor=0.9,
    )
    return pyrender.Mesh.from_trimesh(tm, material=mat, smooth=False)


def vertex_colours(body: Body, app: Appearance) -> np.ndarray:
    """RGBA uint8 per vertex from its part (skin, clothing top/bottom, hair, eyes, shoes)."""
    table = np.zeros((max(PARTS.values()) + 1, 4), np.uint8)
    table[:, 3] = 255
    table[PARTS["skin"], :3] = app.skin
    table[PARTS["top"], :3] = app.top
    table[PARTS["bottom"], :3] = app.bottom
    table[PARTS["hair"], :3] = app.hair
    table[PARTS["eye"], :3] = (40, 30, 25)
    table[PARTS["shoe"], :3] = app.shoe
    return table[body.part]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (V, 3) float32 of a triangle mesh."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.stack([np.bincount(faces.ravel(), np.repeat(fn[:, d], 3), len(vertices))
                   for d in range(3)], axis=1)
    return (vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class TwinRenderer:
    """Renders posed bodies of one ``Body`` with fixed camera, appearance and lights.

    ``renderer(posed) -> RenderOutput``. Call ``close()`` when done (frees the GL context).
    """

    def __init__(self, body: Body, width: int, height: int, camera: CameraSpec = CameraSpec(),
                 appearance: Appearance = Appearance(), lights: Lights = Lights()):
        _choose_platform()
        import pyrender

        self._pr = pyrender
        self.body, self.width, self.height = body, width, height
        self.camera, self.appearance, self.lights = camera, appearance, lights
        self._colours = vertex_colours(body, appearance)
        self.scene = pyrender.Scene(bg_color=[*np.array(appearance.wall_rgb) / 255, 1.0],
                                    ambient_light=[lights.ambient] * 3)
        floor = np.array([[-6, 0, 6], [6, 0, 6], [6, 0, -6], [-6, 0, -6]], np.float64)
        self.scene.add(_textured_quad(floor, _rng_texture(appearance, appearance.floor), 8.0))
        wall = np.array([[-6, 0, -3], [6, 0, -3], [6, 4, -3], [-6, 4, -3]], np.float64)
        self.scene.add(_textured_quad(wall, _rng_texture(appearance, "wall"), 3.0))
        self._cam_pose = camera_pose(camera)
        proj = projection(camera, width, height)
        self.view_proj = proj @ np.linalg.inv(self._cam_pose)
        cam = pyrender.IntrinsicsCamera(
            fx=proj[0, 0] * width / 2, fy=proj[1, 1] * height / 2,
            cx=width / 2, cy=height / 2, znear=0.05, zfar=50.0,
        )
        self.scene.add(cam, pose=self._cam_pose)
        key = np.asarray(lights.key_dir, float)
        self.scene.add(pyrender.DirectionalLight(intensity=lights.key_intensity),
                       pose=look_at(key, np.zeros(3), 0.0))
        fill = self._cam_pose[:3, 3] + [0.0, 1.0, 0.0]
        self.scene.add(pyrender.DirectionalLight(intensity=lights.fill_intensity),
                       pose=look_at(fill, np.zeros(3), 0.0))
        self._body_node = None
        self._r = pyrender.OffscreenRenderer(width, height)
        self._room_depth = self._r.render(self.scene, flags=pyrender.RenderFlags.DEPTH_ONLY)

    def _mesh(self, posed: PosedBody):
        pos = posed.vertices_m.astype(np.float32)
        return self._pr.Mesh([self._pr.Primitive(
            positions=pos, normals=vertex_normals(pos, self.body.faces),
            color_0=self._colours, indices=self.body.faces,
            material=self._pr.MetallicRoughnessMaterial(metallicFactor=0.0, roughnessFactor=0.8),
        )])

    def __call__(self, posed: PosedBody) -> RenderOutput:
        flags = self._pr.RenderFlags
        if self._body_node is not None:
            self.scene.remove_node(self._body_node)
        self._body_node = self.scene.add(self._mesh(posed))
        rgb_flags = flags.SHADOWS_DIRECTIONAL if self.lights.shadows else flags.NONE
        rgb, depth = self._r.render(self.scene, flags=rgb_flags)
        # The body is whatever now lies in front of the empty room (1 mm margin).
        silhouette = (depth > 0) & ((self._room_depth == 0) | (depth < self._room_depth - 1e-3))
        names = list(posed.joints_m)
        px = project_px(np.stack([posed.joints_m[n] for n in names]), self.view_proj,
                        self.width, self.height)
        return RenderOutput(rgb=np.ascontiguousarray(rgb), silhouette=silhouette,
                            joints_px=dict(zip(names, px)), view_proj=self.view_proj)

    def close(self) -> None:
        """Free the GL context."""
        self._r.delete()
