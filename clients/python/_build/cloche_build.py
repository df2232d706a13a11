"""A PEP 517 build backend of the standard library only, so that
``pip install ./clients/python`` works offline: it builds the wheel (and the
sdist, and PEP 660 editable wheels) of ``cloche_client`` without setuptools
or wheel, which pip would otherwise have to download into its isolated
build environment. The package is pure Python: one folder, no build step.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Any, Dict, List, Optional, Tuple

NAME = "cloche-client"
DIST = "cloche_client"
PACKAGE = "cloche_client"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version() -> str:
    with open(os.path.join(ROOT, PACKAGE, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError(f"{PACKAGE}/__init__.py: no __version__")
    return m.group(1)


def _metadata() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {_version()}\n"
        "Summary: Client of Cloche's HTTP API, and an adapter with enDI's notification shapes\n"
        "Requires-Python: >=3.9\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Typing :: Typed\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )


def _files() -> List[Tuple[str, bytes]]:
    out = []
    pkg = os.path.join(ROOT, PACKAGE)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") or name == "py.typed":
            with open(os.path.join(pkg, name), "rb") as f:
                out.append((f"{PACKAGE}/{name}", f.read()))
    return out


def _dist_info(files: List[Tuple[str, bytes]], tag: str = "py3-none-any") -> List[Tuple[str, bytes]]:
    info = f"{DIST}-{_version()}.dist-info"
    meta = [
        (f"{info}/METADATA", _metadata().encode("utf-8")),
        (f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: cloche_build\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()),
        (f"{info}/top_level.txt", f"{PACKAGE}\n".encode()),
    ]
    record = []
    for path, data in files + meta:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    return meta + [(f"{info}/RECORD", ("\n".join(record) + "\n").encode())]


def _write_wheel(directory: str, files: List[Tuple[str, bytes]]) -> str:
    name = f"{DIST}-{_version()}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files + _dist_info(files):
            zi = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return name


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    files = _files()
    info = ""
    for path, data in _dist_info(files):
        if path.endswith("/RECORD"):
            continue
        info = path.split("/")[0]
        os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
        with open(os.path.join(metadata_directory, path), "wb") as f:
            f.write(data)
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    return _write_wheel(wheel_directory, _files())


def build_editable(
    wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    """PEP 660: a wheel whose .pth puts this folder on sys.path."""
    return _write_wheel(wheel_directory, [(f"__editable__.{DIST}.pth", (ROOT + "\n").encode())])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    base = f"{DIST}-{_version()}"
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(path: str, data: bytes) -> None:
            ti = tarfile.TarInfo(f"{base}/{path}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1577836800
            tar.addfile(ti, io.BytesIO(data))

        for rel in ("pyproject.toml", "README.md", "_build/cloche_build.py"):
            with open(os.path.join(ROOT, rel), "rb") as f:
                add(rel, f.read())
        for path, data in _files():
            add(path, data)
        add("PKG-INFO", _metadata().encode("utf-8"))
    return name
