#!/usr/bin/env python3
"""Build the Lambda zip from lambda_src deterministically, or check the committed one.

Deterministic means the same sources always give the same bytes: entries sorted, timestamps fixed
at 1980-01-01 (the earliest a zip can hold), permissions 0o644 and ZIP_STORED (zlib output can
differ between builds). Only *.py files of the package go in; caches never do.

    python tools/package_lambda.py           # write the zip into the module
    python tools/package_lambda.py --check   # exit 1 if the committed zip differs from lambda_src
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "lambda_src"
PACKAGE = "rds_snapshot_manager"
ZIP_PATH = ROOT / "modules" / "rds-snapshot-manager" / "lambda" / f"{PACKAGE}.zip"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--


def source_files(source: Path = SOURCE) -> list[Path]:
    """Every *.py of the package, relative to `source`, sorted by their zip name."""
    files = [
        path.relative_to(source)
        for path in (source / PACKAGE).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return sorted(files, key=lambda path: path.as_posix())


def build(source: Path = SOURCE) -> bytes:
    """The zip's bytes, built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for relative in source_files(source):
            info = zipfile.ZipInfo(relative.as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is honoured on every build host
            archive.writestr(info, (source / relative).read_bytes())
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare a fresh build with the committed zip"
    )
    args = parser.parse_args(argv)
    fresh = build()
    relative_zip = ZIP_PATH.relative_to(ROOT)
    if args.check:
        if not ZIP_PATH.exists():
            print(f"{relative_zip} is missing: run `make package` and commit it.", file=sys.stderr)
            return 1
        if ZIP_PATH.read_bytes() != fresh:
            print(
                f"{relative_zip} differs from lambda_src: run `make package` and commit the zip.",
                file=sys.stderr,
            )
            return 1
        print(f"{relative_zip} matches lambda_src ({len(fresh)} bytes).")
        return 0
    ZIP_PATH.parent.mkdir(parents=True, exist_ok=True)
    ZIP_PATH.write_bytes(fresh)
    print(f"wrote {relative_zip} ({len(fresh)} bytes, {len(source_files())} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
