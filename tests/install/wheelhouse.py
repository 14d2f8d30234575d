"""A local wheelhouse made from the running virtual environment, so the set-up test can
install flatback's dependencies offline, in seconds, without downloading ~400 MB.

Each installed distribution in the requirement closure of flatback (plus pip, setuptools
and wheel, which the editable build needs) is zipped back into a wheel from the files its
``RECORD`` lists: the same files, so pip installs exactly what the suite already runs on.
Compiled ``.pyc`` files and scripts outside site-packages are left out (pip makes console
scripts again from ``entry_points.txt``). Entries are stored, not compressed: it is a
temporary local copy, and compression would cost most of the time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

BUILD_TOOLS = ("pip", "setuptools", "wheel")  # the editable install's build needs these offline
SKIP_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(root: str = "flatback", extras: tuple[str, ...] = ()) -> list[metadata.Distribution]:
    """The installed distributions ``root[extras]`` needs, recursively (markers evaluated)."""
    installed = {_norm(d.metadata["Name"]): d for d in metadata.distributions()}
    env = default_environment()
    wanted: dict[str, metadata.Distribution] = {}
    todo = [(root, set(extras))]
    while todo:
        name, want_extras = todo.pop()
        dist = installed.get(_norm(name))
        if dist is None or (_norm(name) in wanted and not want_extras):
            continue
        wanted[_norm(name)] = dist
        # flatback's own requirements come from this checkout's pyproject.toml: the installed
        # flatback may be an older checkout's (a shared development environment)
        requires = _project_requires() if _norm(name) == _norm(root) == "flatback" else dist.requires
        for line in requires or []:
            req = Requirement(line)
            ok = req.marker is None or any(req.marker.evaluate({**env, "extra": e}) for e in (want_extras or {""}))
            if ok and _norm(req.name) not in wanted:
                todo.append((req.name, set(req.extras)))
    return list(wanted.values())


def _project_requires() -> list[str]:
    """pyproject.toml's dependencies, and each extra's marked as installed metadata marks them."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    lines = list(project.get("dependencies", []))
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines += [f'{r}; extra == "{extra}"' for r in reqs]
    return lines


def repack(dist: metadata.Distribution, dest: Path) -> Path:
    """Zip one installed distribution back into a wheel in ``dest``."""
    info = Path(dist._path)  # the .dist-info folder
    tags = [line.split(":", 1)[1].strip() for line in (info / "WHEEL").read_text().splitlines() if line.startswith("Tag:")]
    name = re.sub(r"[-.]+", "_", dist.metadata["Name"])
    parts = [sorted({t.split("-")[k] for t in tags or ["py3-none-any"]}) for k in range(3)]
    wheel = dest / f"{name}-{dist.version}-{'-'.join('.'.join(p) for p in parts)}.whl"  # py2.py3-none-any
    if wheel.exists():
        return wheel
    tmp = wheel.with_suffix(".part")
    records = []
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for f in dist.files or []:
            rel = f.as_posix()
            if rel.startswith("..") or rel.endswith(".pyc") or "__pycache__" in rel:
                continue
            if rel.startswith(info.name + "/") and rel.split("/", 1)[1] in SKIP_META:
                continue
            path = Path(dist.locate_file(f))
            if path.is_file():
                zf.write(path, rel)
                records.append(f"{rel},,")
        records.append(f"{info.name}/RECORD,,")
        zf.writestr(f"{info.name}/RECORD", "\n".join(records) + "\n")
    tmp.rename(wheel)
    return wheel


def build_wheelhouse(dest: Path) -> list[Path]:
    """Wheels for flatback's main dependencies and the build tools, in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    dists = [d for d in requirement_closure() if _norm(d.metadata["Name"]) != "flatback"]
    for tool in BUILD_TOOLS:
        try:
            dists.append(metadata.distribution(tool))
        except metadata.PackageNotFoundError:
            pass
    wheels = [repack(d, dest) for d in dists]
    if not _has_build_tools(dest):  # an environment made without flatback[test]: fetch the two small ones
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "-d", str(dest), "setuptools>=68", "wheel"], check=True)
    return wheels


def _has_build_tools(dest: Path) -> bool:
    """setuptools >= 68 (pyproject's build requirement) and wheel are in ``dest``."""
    from packaging.version import Version

    setuptools = [Version(w.name.split("-")[1]) for w in dest.glob("setuptools-*.whl")]
    return any(v >= Version("68") for v in setuptools) and any(dest.glob("wheel-*.whl"))
