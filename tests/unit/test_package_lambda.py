import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tools import package_lambda


def write_package(root: Path) -> None:
    package = root / package_lambda.PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "handlers.py").write_text("x = 1\n")
    (package / "sub" / "a.py").write_text("y = 2\n")
    (package / "__pycache__" / "handlers.cpython-311.pyc").write_bytes(b"junk")
    (package / "notes.txt").write_text("not code")


def test_build_is_byte_identical_across_builds_and_holds_only_sources(tmp_path: Path) -> None:
    write_package(tmp_path)
    first = package_lambda.build(tmp_path)
    (tmp_path / package_lambda.PACKAGE / "handlers.py").touch()  # a new mtime must not matter
    assert package_lambda.build(tmp_path) == first
    with zipfile.ZipFile(BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == [
        "rds_snapshot_manager/handlers.py",
        "rds_snapshot_manager/sub/a.py",
    ]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_STORED
        assert (info.external_attr >> 16) & 0o777 == 0o644


def test_committed_zip_matches_lambda_src() -> None:
    assert package_lambda.ZIP_PATH.read_bytes() == package_lambda.build()


def test_check_mode_fails_naming_make_package_when_zip_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "stale.zip"
    stale.write_bytes(b"old")
    monkeypatch.setattr(package_lambda, "ZIP_PATH", stale)
    monkeypatch.setattr(package_lambda, "ROOT", tmp_path)
    assert package_lambda.main(["--check"]) == 1
    assert "make package" in capsys.readouterr().err
    stale.unlink()
    assert package_lambda.main(["--check"]) == 1
    assert package_lambda.main([]) == 0
    assert package_lambda.main(["--check"]) == 0
