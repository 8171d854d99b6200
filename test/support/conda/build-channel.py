#!/usr/bin/env python3
"""Builds the local conda channel of the test sandbox.

    build-channel.py OUT_DIR            build the channel into OUT_DIR (no-op when up to date)
    build-channel.py --inputs-hash      print the hash of the inputs (as test/support/conda/index.ts computes it)

Run it with the fixture venv's python ($BTD_VENV/bin/python: py-rattler, whl2conda, setuptools).
No network is used. Packages (real conda packages, .tar.bz2, built byte-for-byte reproducibly):

  linux-64/python-3.11.2-0_debian.tar.bz2  the machine's Debian CPython made relocatable: bin/python3.11
                                           (libpython is linked in) plus its stdlib at lib/python3.11,
                                           compiled to unchecked-hash .pyc; a sitecustomize.py and a patched
                                           sysconfig.py put <prefix>/lib/python3.11/site-packages on sys.path
                                           and is the install scheme, as in a conda python.
  linux-64/prefix-probe-1.0.0-0.tar.bz2    text files carrying the prefix placeholder
                                           /opt/anaconda1anaconda2anaconda3 (info/has_prefix, paths.json).
  noarch/meanrev-1.0.0-py_0.tar.bz2        the example team's project (examples/backtest-pipeline/project)
  noarch/meanrev-1.1.0-py_0.tar.bz2        as a noarch python package (wheel -> whl2conda), entry points
                                           meanrev-backtest and meanrev-check created by the installer.

OUT_DIR is complete when OUT_DIR/.btd-channel-stamp holds the inputs hash and the identity of the
host python; the channel is built in a temporary sibling folder and renamed into place.
"""

from __future__ import annotations

import argparse
import asyncio
import bz2
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PROJECT = ROOT / "examples" / "backtest-pipeline" / "project"
# Folders whose content identifies the channel (keep in sync with index.ts).
INPUT_DIRS = ["test/support/conda", "examples/backtest-pipeline/project"]
IGNORED_NAMES = {"__pycache__", "build", "dist", ".pytest_cache", "node_modules", ".venv"}
STAMP = ".btd-channel-stamp"

# Every file in every package carries this mtime (2023-11-14T22:13:20Z); index.json's timestamp too.
EPOCH = 1_700_000_000
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"

HOST_PYTHON = Path("/usr/bin/python3.11")
HOST_STDLIB = Path("/usr/lib/python3.11")
PY_BUILD = "0_debian"

# meanrev versions in the channel: version -> source substitutions applied to a temporary copy.
MEANREV_VERSIONS: dict[str, dict[str, dict[str, str]]] = {
    "1.0.0": {"src/meanrev/strategy.py": {"DEFAULT_LOOKBACK = 20": "DEFAULT_LOOKBACK = 10"}},
    "1.1.0": {},
}

# Parts of the stdlib a pure-Python batch program does not need.
STDLIB_SKIP_DIRS = {
    "test",
    "tests",
    "idle_test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "pydoc_data",
    "dist-packages",
    "site-packages",
    "config-3.11-x86_64-linux-gnu",
    "__pycache__",
}
STDLIB_SKIP_FILES = {"sitecustomize.py", "EXTERNALLY-MANAGED", "turtle.py"}
DYNLOAD_SKIP = re.compile(r"^(_test|_ctypes_test|_xxtestfuzz|xxlimited|_tkinter)")


def log(msg: str) -> None:
    print(f"[build-channel] {msg}", file=sys.stderr, flush=True)


# --- inputs ------------------------------------------------------------------------------------


def input_files() -> list[str]:
    files: list[str] = []
    for top in INPUT_DIRS:
        for dirpath, dirnames, filenames in os.walk(ROOT / top):
            dirnames[:] = [d for d in dirnames if d not in IGNORED_NAMES and not d.endswith(".egg-info")]
            for name in filenames:
                if name.endswith((".pyc", ".pyo")):
                    continue
                files.append(Path(dirpath, name).relative_to(ROOT).as_posix())
    return sorted(files)


def inputs_hash() -> str:
    """sha256 over `<path>\\0<sha256 of content>\\n` for every input file, sorted by path."""
    h = hashlib.sha256()
    for rel in input_files():
        h.update(f"{rel}\0{hashlib.sha256((ROOT / rel).read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stamp_for(h: str) -> str:
    return json.dumps({"inputs": h, "host_python": sha256_file(HOST_PYTHON)}, sort_keys=True) + "\n"


# --- packaging ---------------------------------------------------------------------------------


def package_files(stage: Path) -> list[str]:
    """Relative paths of the files and symlinks of a staged package (no info/), sorted."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(stage):
        rel_dir = Path(dirpath).relative_to(stage)
        if rel_dir.parts[:1] == ("info",):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if p.is_symlink() or p.is_file():
                out.append(p.relative_to(stage).as_posix())
    return sorted(out)


def write_paths_json(stage: Path, placeholders: dict[str, str] | None = None) -> None:
    """info/paths.json, info/files and (when placeholders) info/has_prefix for a staged package."""
    placeholders = placeholders or {}
    entries = []
    files = package_files(stage)
    for rel in files:
        p = stage / rel
        if p.is_symlink():
            entries.append({"_path": rel, "path_type": "softlink"})
            continue
        entry: dict[str, object] = {"_path": rel, "path_type": "hardlink"}
        if rel in placeholders:
            entry["file_mode"] = "text"
            entry["prefix_placeholder"] = placeholders[rel]
        entry["sha256"] = sha256_file(p)
        entry["size_in_bytes"] = p.stat().st_size
        entries.append(entry)
    info = stage / "info"
    info.mkdir(exist_ok=True)
    (info / "paths.json").write_text(json.dumps({"paths": entries, "paths_version": 1}, indent=2) + "\n")
    (info / "files").write_text("".join(f"{f}\n" for f in files))
    if placeholders:
        (info / "has_prefix").write_text(
            "".join(f"{ph} text {rel}\n" for rel, ph in sorted(placeholders.items()))
        )


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def pack(stage: Path, out: Path) -> None:
    """A .tar.bz2 conda package: info/ first, sorted, fixed owner, mode and mtime."""
    rels: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(stage):
        for name in filenames:
            rels.append(Path(dirpath, name).relative_to(stage).as_posix())
        for name in _dirnames:
            p = Path(dirpath, name)
            if p.is_symlink():
                rels.append(p.relative_to(stage).as_posix())
    rels.sort(key=lambda r: (not r.startswith("info/"), r))
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in rels:
            p = stage / rel
            ti = tarfile.TarInfo(rel)
            ti.mtime = EPOCH
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if p.is_symlink():
                ti.type = tarfile.SYMTYPE
                ti.linkname = os.readlink(p)
                ti.mode = 0o777
                tar.addfile(ti)
            else:
                st = p.stat()
                ti.size = st.st_size
                ti.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
                with open(p, "rb") as f:
                    tar.addfile(ti, f)
    out.write_bytes(bz2.compress(buf.getvalue(), 9))


def index_json(name: str, version: str, build: str, subdir: str, depends: list[str], **extra: object) -> dict:
    data: dict[str, object] = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(build.rsplit("_", 1)[-1]) if build.rsplit("_", 1)[-1].isdigit() else 0,
        "depends": depends,
        "subdir": subdir,
        "timestamp": EPOCH * 1000,
    }
    if subdir == "linux-64":
        data.update({"arch": "x86_64", "platform": "linux"})
    data.update(extra)
    return data


# --- python ------------------------------------------------------------------------------------


def host_python_version() -> str:
    out = subprocess.run(
        [str(HOST_PYTHON), "-I", "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def patch_file(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"build-channel: cannot patch {path}: {old!r} not found")
    path.write_text(text.replace(old, new, 1))


SITECUSTOMIZE = '''"""Python of a conda env (backtest-deploy test channel), made from Debian's CPython.

Debian's site module (frozen into the interpreter) adds <prefix>/lib/python3.X/site-packages only in
a virtual environment; a conda python always has it, after the stdlib and the user site, with its
.pth files processed. This does the same.
"""

import os
import site
import sys


def _conda_site_packages():
    return os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")


_debian_getsitepackages = site.getsitepackages


def getsitepackages(prefixes=None):
    found = _debian_getsitepackages(prefixes)
    if prefixes is None and _conda_site_packages() not in found:
        found.insert(0, _conda_site_packages())
    return found


site.getsitepackages = getsitepackages
if os.path.isdir(_conda_site_packages()):
    site.addsitedir(_conda_site_packages())
'''


def build_python(work: Path, channel: Path) -> None:
    version = host_python_version()
    if not version.startswith("3.11."):
        raise SystemExit(f"build-channel: {HOST_PYTHON} is {version}, expected 3.11.x")
    log(f"python {version}: staging {HOST_PYTHON} and {HOST_STDLIB}")
    stage = work / "python"
    (stage / "bin").mkdir(parents=True)
    shutil.copyfile(HOST_PYTHON, stage / "bin/python3.11")
    os.chmod(stage / "bin/python3.11", 0o755)
    os.symlink("python3.11", stage / "bin/python3")
    os.symlink("python3.11", stage / "bin/python")
    lib = stage / "lib/python3.11"
    for dirpath, dirnames, filenames in os.walk(HOST_STDLIB):
        dirnames[:] = sorted(d for d in dirnames if d not in STDLIB_SKIP_DIRS)
        rel_dir = Path(dirpath).relative_to(HOST_STDLIB)
        (lib / rel_dir).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            if name in STDLIB_SKIP_FILES and rel_dir == Path("."):
                continue
            if rel_dir == Path("lib-dynload") and DYNLOAD_SKIP.match(name):
                continue
            if name.endswith((".pyc", ".pyo")):
                continue
            src = Path(dirpath, name)
            dst = lib / rel_dir / name
            if src.is_symlink():
                target = os.readlink(src)
                if not os.path.isabs(target) and (src.parent / target).resolve().is_relative_to(HOST_STDLIB):
                    os.symlink(target, dst)
                continue  # a link out of the stdlib (e.g. to /etc) is left out
            shutil.copyfile(src, dst)
    # Debian puts <prefix>/lib/python3.11/site-packages on sys.path and in the install scheme only in
    # a virtual environment; a conda python always does. Make the env's python behave as conda's:
    # site is frozen into the interpreter, so a sitecustomize.py (Debian's is a link to /etc, left
    # out) adds the folder; sysconfig is read from the stdlib folder, so it is patched.
    (lib / "sitecustomize.py").write_text(SITECUSTOMIZE)
    patch_file(
        lib / "sysconfig.py",
        'if sys.base_prefix != sys.prefix or hasattr(sys, "real_prefix"):',
        "if True:  # conda env (backtest-deploy test channel): the upstream posix_prefix scheme",
    )
    (lib / "site-packages").mkdir()
    (lib / "site-packages/README.txt").write_text(
        "This directory exists so that 3rd party packages can be installed here.\n"
    )
    # Unchecked-hash .pyc: never rewritten at run time (a read-only image stays fast, and running a
    # program in a fresh env writes no bytecode with install-time mtimes into the stdlib). Serial on
    # purpose: marshal output depends on the compiling process's state (refcounts), workers vary it.
    log("python: compiling the stdlib (unchecked-hash .pyc)")
    res = subprocess.run(
        [
            str(stage / "bin/python3.11"),
            "-s",
            "-m",
            "compileall",
            "-q",
            "-f",
            "--invalidation-mode",
            "unchecked-hash",
            "-d",
            "lib/python3.11",
            str(lib),
        ],
        # Constant sets of strings are marshalled in hash order: pin the seed.
        env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8"},
        cwd=stage,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SystemExit(f"build-channel: compileall failed:\n{res.stdout}{res.stderr}")
    write_paths_json(stage)
    info = stage / "info"
    write_json(info / "index.json", index_json("python", version, PY_BUILD, "linux-64", [], license="PSF-2.0"))
    write_json(
        info / "about.json",
        {
            "summary": f"Debian's CPython {version} ({HOST_PYTHON}) made relocatable, for backtest-deploy tests",
            "license": "PSF-2.0",
            "home": "https://www.python.org",
        },
    )
    pack(stage, channel / "linux-64" / f"python-{version}-{PY_BUILD}.tar.bz2")


# --- prefix-probe ------------------------------------------------------------------------------


PROBE_SCRIPT = f"""#!/bin/sh
# prefix-probe: prints the prefix the installer wrote into this file and into
# etc/prefix-probe.conf; exits 3 if the two disagree (text prefix replacement broken).
PREFIX="{PLACEHOLDER}"
conf_prefix=$(sed -n 's/^prefix = //p' "$PREFIX/etc/prefix-probe.conf" 2>/dev/null)
if [ "$conf_prefix" != "$PREFIX" ]; then
  echo "prefix-probe: script says $PREFIX, $PREFIX/etc/prefix-probe.conf says '$conf_prefix'" >&2
  exit 3
fi
echo "$PREFIX"
"""

PROBE_CONF = f"""# prefix-probe configuration; the installer replaces the placeholder with the env prefix.
prefix = {PLACEHOLDER}
data_dir = {PLACEHOLDER}/share/prefix-probe
"""


def build_prefix_probe(work: Path, channel: Path) -> None:
    log("prefix-probe 1.0.0")
    stage = work / "prefix-probe"
    (stage / "bin").mkdir(parents=True)
    (stage / "etc").mkdir()
    (stage / "share/prefix-probe").mkdir(parents=True)
    (stage / "bin/prefix-probe").write_text(PROBE_SCRIPT)
    os.chmod(stage / "bin/prefix-probe", 0o755)
    (stage / "etc/prefix-probe.conf").write_text(PROBE_CONF)
    (stage / "share/prefix-probe/README").write_text("prefix-probe: a fixture of the backtest-deploy tests.\n")
    write_paths_json(stage, {"bin/prefix-probe": PLACEHOLDER, "etc/prefix-probe.conf": PLACEHOLDER})
    write_json(stage / "info/index.json", index_json("prefix-probe", "1.0.0", "0", "linux-64", [], license="Apache-2.0"))
    write_json(stage / "info/about.json", {"summary": "Prints its install prefix (prefix replacement fixture)"})
    pack(stage, channel / "linux-64" / "prefix-probe-1.0.0-0.tar.bz2")


# --- meanrev -----------------------------------------------------------------------------------


def build_meanrev(work: Path, channel: Path, version: str, substitutions: dict[str, dict[str, str]]) -> None:
    log(f"meanrev {version}: wheel -> conda")
    src = work / f"meanrev-{version}-src"
    shutil.copytree(
        PROJECT,
        src,
        ignore=lambda _d, names: [n for n in names if n in IGNORED_NAMES or n.endswith((".egg-info", ".pyc"))],
    )
    pyproject = src / "pyproject.toml"
    text = pyproject.read_text()
    text, n = re.subn(r'(?m)^version = "[^"]*"$', f'version = "{version}"', text)
    if n != 1:
        raise SystemExit("build-channel: no `version = \"...\"` line in the project's pyproject.toml")
    pyproject.write_text(text)
    for rel, subs in substitutions.items():
        for old, new in subs.items():
            patch_file(src / rel, old, new)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), PIP_NO_INDEX="1", PYTHONDONTWRITEBYTECODE="1")
    wheels = work / f"meanrev-{version}-wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(wheels), str(src)],
        check=True,
        env=env,
        cwd=src,
    )
    wheel = next(wheels.glob("meanrev-*.whl"))
    tree = work / f"meanrev-{version}-tree"
    subprocess.run(
        [sys.executable, "-m", "whl2conda", "convert", str(wheel), "--format", "tree", "--out-dir", str(tree),
         "--batch", "--yes", "--quiet", "--ignore-pyproject"],
        check=True,
        env=env,
        cwd=work,
    )
    (stage,) = list(tree.iterdir())
    idx_path = stage / "info/index.json"
    idx = json.loads(idx_path.read_text())
    if idx.get("noarch") != "python" or not any(d.split()[0] == "python" for d in idx["depends"]):
        raise SystemExit(f"build-channel: whl2conda made an unexpected index.json: {idx}")
    idx["timestamp"] = EPOCH * 1000
    idx = {k: v for k, v in idx.items() if v is not None}
    write_json(idx_path, idx)
    link = json.loads((stage / "info/link.json").read_text())
    if len(link["noarch"]["entry_points"]) != 2:
        raise SystemExit(f"build-channel: expected two entry points in info/link.json: {link}")
    pack(stage, channel / "noarch" / f"meanrev-{version}-{idx['build']}.tar.bz2")


# --- channel -----------------------------------------------------------------------------------


def build(out: Path) -> None:
    h = inputs_hash()
    stamp = stamp_for(h)
    stamp_path = out / STAMP
    if stamp_path.is_file() and stamp_path.read_text() == stamp:
        log(f"{out} is up to date")
        return
    from rattler.index import index_fs

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    try:
        channel = work / "channel"
        (channel / "noarch").mkdir(parents=True)
        (channel / "linux-64").mkdir()
        build_python(work, channel)
        build_prefix_probe(work, channel)
        for version, subs in MEANREV_VERSIONS.items():
            build_meanrev(work, channel, version, subs)
        log("indexing")
        asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))
        for sub in ("noarch", "linux-64"):
            # index_fs stamps each record with the time of indexing: pin it, so two builds are identical.
            repodata_path = channel / sub / "repodata.json"
            if not repodata_path.is_file():
                raise SystemExit(f"build-channel: index_fs wrote no {sub}/repodata.json")
            repodata = json.loads(repodata_path.read_text())
            for key in ("packages", "packages.conda"):
                for record in repodata.get(key, {}).values():
                    if "indexed_timestamp" in record:
                        record["indexed_timestamp"] = EPOCH * 1000
            repodata_path.write_text(json.dumps(repodata, indent=1, sort_keys=True) + "\n")
        shutil.rmtree(channel / ".tmp", ignore_errors=True)
        (channel / STAMP).write_text(stamp)
        if out.exists():
            if (out / STAMP).is_file() and (out / STAMP).read_text() == stamp:
                log(f"{out} was built by another process meanwhile")
                return
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "channel")
            shutil.rmtree(old)
        try:
            os.rename(channel, out)
        except OSError:
            if not ((out / STAMP).is_file() and (out / STAMP).read_text() == stamp):
                raise
        log(f"built {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, help="channel folder to build")
    parser.add_argument("--inputs-hash", action="store_true", help="print the inputs hash and exit")
    args = parser.parse_args()
    if args.inputs_hash:
        print(inputs_hash())
        return 0
    if args.out is None:
        parser.error("OUT_DIR is required")
    build(args.out.absolute())
    return 0


if __name__ == "__main__":
    sys.exit(main())
