#!/usr/bin/env python3
"""Bring front-end libraries in from the npm registry, unmodified, with their licence.

Each entry names an npm package, a version and the release files to keep. Files go
to src/commonground/static/vendor/<name>-<version>/ and are committed, so the
platform needs no CDN at run time. Run this again to reproduce or upgrade them.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import urllib.request
from pathlib import Path

VENDOR = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "commonground"
    / "static"
    / "vendor"
)
REGISTRY = "https://registry.npmjs.org"

PACKAGES = {
    ("htmx.org", "2.0.4"): ["dist/htmx.min.js", "LICENSE"],
    ("echarts", "5.6.0"): ["dist/echarts.min.js", "LICENSE", "NOTICE"],
}


def fetch(name: str, version: str, files: list[str]) -> None:
    meta = json.load(urllib.request.urlopen(f"{REGISTRY}/{name}/{version}"))  # noqa: S310
    tarball = urllib.request.urlopen(meta["dist"]["tarball"]).read()  # noqa: S310
    integrity = meta["dist"].get("shasum")
    if integrity and hashlib.sha1(tarball).hexdigest() != integrity:  # noqa: S324 - npm's own checksum
        raise SystemExit(f"{name}@{version}: checksum mismatch")
    target = VENDOR / f"{name}-{version}"
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for wanted in files:
            member = archive.extractfile(f"package/{wanted}")
            if member is None:
                raise SystemExit(f"{name}@{version}: {wanted} not in the release")
            (target / Path(wanted).name).write_bytes(member.read())
    print(
        f"{name}@{version} -> {target.relative_to(VENDOR.parent.parent.parent.parent)}"
    )


if __name__ == "__main__":
    for (package, version), wanted_files in PACKAGES.items():
        fetch(package, version, wanted_files)
