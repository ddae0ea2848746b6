"""Fetch a package by name and version with its registry's own client, verify it, unpack it.

A :class:`Package` pins a registry package to one archive file by its sha256, as pip's
hash-checking mode does (``pip download --require-hashes``). :func:`fetch_package` downloads
the archive into a temporary directory with the client (``pip download --no-deps``,
``npm pack``, ``apt-get download``), refuses it when its sha256 differs from the pin, unpacks
it (wheel/zip, tar.gz/tgz, or ``dpkg -x`` for a .deb) and renames the tree into the cache at
``cache_root()/packages/<client>/<name>-<version>/``. The rename happens only once the tree
is complete, so a later call finds either nothing or the whole tree, and then reuses it
without touching the network.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from rnnkit.errors import FetchError
from rnnkit.fileio import sha256_file

ClientName = Literal["pip", "npm", "apt"]

#: Command prefix of each client; tests replace an entry to simulate a missing client.
CLIENTS: dict[str, list[str]] = {
    "pip": [sys.executable, "-m", "pip"],
    "npm": ["npm"],
    "apt": ["apt-get"],
    "dpkg": ["dpkg"],
}

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Package:
    """One registry package, pinned to a single archive file.

    Args:
        client: the registry's client: ``"pip"`` (PyPI), ``"npm"`` or ``"apt"`` (Debian).
        name: the package name as the client spells it.
        version: the exact version.
        sha256: hex sha256 of the downloaded archive (.whl/.tar.gz, .tgz or .deb).
        extra_args: extra client arguments that select the archive, e.g. pip's
            ``--platform``/``--python-version`` so that a package with several wheels always
            yields the same file (and so the same hash) whatever machine fetches it.
    """

    client: ClientName
    name: str
    version: str
    sha256: str
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _HEX64.match(self.sha256):
            raise ValueError(f"{self.name}: sha256 must be 64 lowercase hex digits")

    @property
    def spec(self) -> str:
        """The package as the client names it: ``name==1.0`` (pip), ``name@1.0``, ``name=1.0``."""
        sep = {"pip": "==", "npm": "@", "apt": "="}[self.client]
        return f"{self.name}{sep}{self.version}"


def cache_root() -> Path:
    """The cache directory: ``$RNNKIT_CACHE`` when set, else ``~/.cache/rnnkit``."""
    env = os.environ.get("RNNKIT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "rnnkit"


def package_dir(pkg: Package) -> Path:
    """Where the unpacked tree of ``pkg`` lives in the cache (it may not exist yet)."""
    return cache_root() / "packages" / pkg.client / f"{pkg.name}-{pkg.version}"


def fetch_package(pkg: Package) -> Path:
    """Return the unpacked tree of ``pkg``, downloading and verifying it on first use.

    Raises:
        FetchError: the client is missing, the download failed (registry unreachable,
            unknown version) or the archive's sha256 differs from ``pkg.sha256``.
    """
    target = package_dir(pkg)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    with temp_dir(target.parent, f".{target.name}.") as work:
        download_dir = work / "download"
        download_dir.mkdir()
        with console.status(f"Downloading {pkg.client} package {pkg.spec}…"):
            archive = download(pkg, download_dir)
        got = sha256_file(archive)
        if got != pkg.sha256:
            raise FetchError(_mismatch(pkg, got))
        tree = work / "tree"
        with console.status(f"Unpacking {archive.name}…"):
            unpack(archive, tree)
        rename_into_place(tree, target)
    return target


def download(pkg: Package, dest: Path) -> Path:
    """Download the archive of ``pkg`` into the empty directory ``dest``; return its path."""
    what = f"{pkg.client} package {pkg.spec}"
    if pkg.client == "pip":
        requirement = dest.parent / "requirements.txt"
        requirement.write_text(f"{pkg.spec} --hash=sha256:{pkg.sha256}\n", encoding="utf-8")
        args = ["download", "--no-deps", "--require-hashes", "-r", str(requirement)]
        proc = _run("pip", [*args, "-d", str(dest), *pkg.extra_args], dest, what)
        # pip checks the pin itself, before it runs anything from an sdist
        got = re.search(r"Got\s+([0-9a-f]{64})", proc.stderr)
        if proc.returncode != 0 and got:
            raise FetchError(_mismatch(pkg, got.group(1)))
    elif pkg.client == "npm":
        args = ["pack", pkg.spec, "--ignore-scripts", "--pack-destination", str(dest)]
        proc = _run("npm", [*args, *pkg.extra_args], dest, what)
    else:
        proc = _run("apt", ["download", pkg.spec, *pkg.extra_args], dest, what)
    _check(proc, "apt-get" if pkg.client == "apt" else pkg.client, what)
    files = [p for p in dest.iterdir() if p.is_file()]
    if len(files) != 1:
        names = ", ".join(sorted(p.name for p in files)) or "nothing"
        raise FetchError(f"{what}: expected one archive from {pkg.client}, got {names}")
    return files[0]


def unpack(archive: Path, dest: Path) -> None:
    """Unpack a wheel/zip, tar.gz/tgz or .deb into ``dest``, refusing paths that escape it."""
    dest.mkdir(parents=True)
    name = archive.name
    try:
        if name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zf:
                root = dest.resolve()
                for member in zf.namelist():
                    if not (dest / member).resolve().is_relative_to(root):
                        raise FetchError(f"{name}: member {member!r} would unpack outside")
                zf.extractall(dest)
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(archive) as tf:
                tf.extractall(dest, filter="data")
        elif name.endswith(".deb"):
            _check(_run("dpkg", ["-x", str(archive), str(dest)], dest, name), "dpkg", name)
        else:
            raise FetchError(f"{name}: unknown archive type")
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{name}: cannot unpack: {exc}") from exc


def locate(root: Path, relative: str) -> Path:
    """The single path under ``root`` that ends with ``relative`` (e.g. ``"pkg/data.csv"``).

    Packages nest their files differently (a wheel at the top, an sdist under
    ``name-version/``, an npm tarball under ``package/``); converters name the part that
    identifies the file and find it wherever it sits.

    Raises:
        FetchError: no path or several paths match.
    """
    parts = Path(relative).parts
    matches = sorted(p for p in root.rglob(parts[-1]) if p.parts[-len(parts) :] == parts)
    if len(matches) != 1:
        found = "nothing" if not matches else ", ".join(str(m) for m in matches[:3])
        raise FetchError(f"{root}: expected one {relative!r} in the package, found {found}")
    return matches[0]


def _run(client: str, args: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess[str]:
    """Run one client command; a missing client raises :class:`FetchError` naming it."""
    command = [*CLIENTS[client], *args]
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise FetchError(
            f"cannot fetch {what}: its client {client} ({command[0]!r}) is not installed"
        ) from exc


def _check(proc: subprocess.CompletedProcess[str], client: str, what: str) -> None:
    """Raise :class:`FetchError` with the client's last stderr line when it failed."""
    if proc.returncode == 0:
        return
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
    last = lines[-1] if lines else f"exit status {proc.returncode}"
    raise FetchError(f"cannot fetch {what} with {client} (registry unreachable?): {last}")


def _mismatch(pkg: Package, got: str) -> str:
    return (
        f"{pkg.client} package {pkg.spec}: sha256 mismatch, expected {pkg.sha256}, got {got}; "
        "refusing the download"
    )


@contextlib.contextmanager
def temp_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary directory beside the final one (same file system, so rename is atomic)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def rename_into_place(tree: Path, target: Path) -> None:
    """Rename a finished tree onto ``target``; if another process got there first, keep its."""
    try:
        tree.rename(target)
    except OSError:
        if not target.is_dir():
            raise
