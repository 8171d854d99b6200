"""rattler-mamba: the subset of the mamba/micromamba command line backtest-deploy uses, on py-rattler.

A test installer: no conda, mamba or micromamba binary can be installed in the sandbox, so this
drives a real conda installation engine (py-rattler: solver, package cache, linker with prefix
replacement, noarch python entry points, conda-meta records) with mamba's flags.

    rattler-mamba --version
    rattler-mamba create -y -p PREFIX [-c CHANNEL]... [--override-channels] [--offline]
                         [--pkgs-dir DIR] [--dry-run] [--json] [-q] [SPEC...] [--file FILE]...
    rattler-mamba env create -y -p PREFIX -f env.yml [-c CHANNEL]... [--offline]
    rattler-mamba list -p PREFIX [--explicit [--md5]] [--json]
    rattler-mamba run -p PREFIX CMD [ARG...]

--file takes an environment.yml (channels:, dependencies:), an explicit lock (@EXPLICIT then
URL[#md5] lines, installed exactly, without a solve) or a plain list of specs, one a line.
Channels are file:// URLs or folders. The package cache is --pkgs-dir, else $CONDA_PKGS_DIRS
(first entry), else $BTD_CACHE/rattler-mamba-pkgs; never inside the prefix.
Every invocation is appended (argv as a JSON array, one line) to $RATTLER_MAMBA_LOG if set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import pathname2url

VERSION = "0.1.0"
PLATFORM = "linux-64"


class UserError(Exception):
    """An error reported in the installer's own words (exit 1)."""


def rattler_version() -> str:
    from importlib.metadata import version

    return version("py-rattler")


def log_invocation(argv: list[str]) -> None:
    path = os.environ.get("RATTLER_MAMBA_LOG")
    if not path:
        return
    line = (json.dumps(argv) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def say(args: argparse.Namespace, msg: str) -> None:
    if not getattr(args, "quiet", False) and not getattr(args, "json", False):
        print(msg, flush=True)


# --- channels ----------------------------------------------------------------------------------


def channel_url(channel: str) -> str:
    """file:// URL of a channel given as a folder or a URL (other URLs and names pass through)."""
    if "://" in channel:
        return channel.rstrip("/")
    if channel.startswith((".", "/", "~")) or os.sep in channel:
        path = Path(channel).expanduser().absolute()
        return "file://" + pathname2url(str(path)).rstrip("/")
    return channel  # a channel name (conda-forge): rattler resolves it


def check_channel(url: str, offline: bool) -> None:
    if url.startswith("file://"):
        folder = Path(unquote(urlparse(url).path))
        if not folder.is_dir():
            raise UserError(f"channel {url} not found: {folder} does not exist")
        if not any((folder / sub / "repodata.json").is_file() for sub in (PLATFORM, "noarch")):
            raise UserError(
                f"channel {url} not found: no repodata.json in {folder}/{PLATFORM} nor {folder}/noarch "
                "(is it an indexed conda channel?)"
            )
    elif offline:
        raise UserError(f"channel {url} is not a local channel and --offline was given")


def resolve_channels(cli: list[str], from_files: list[str], offline: bool) -> list[str]:
    urls: list[str] = []
    for c in cli + from_files:
        if c in ("nodefaults", "defaults"):
            continue  # this installer has no default channels
        u = channel_url(c)
        if u not in urls:
            urls.append(u)
    if not urls:
        raise UserError("no channel given: pass -c CHANNEL (this installer has no default channels)")
    for u in urls:
        check_channel(u, offline)
    return urls


# --- inputs: specs, environment files, explicit locks ------------------------------------------


class Inputs:
    def __init__(self) -> None:
        self.specs: list[str] = []
        self.channels: list[str] = []
        self.explicit: list[str] = []  # URL[#hash] lines


def read_file_input(path: str, inputs: Inputs) -> None:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    lines = [ln.strip() for ln in text.splitlines()]
    if "@EXPLICIT" in lines:
        inputs.explicit.extend(ln for ln in lines if ln and not ln.startswith("#") and ln != "@EXPLICIT")
        return
    if p.suffix in (".yml", ".yaml"):
        import yaml

        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise UserError(f"{path} is not valid YAML: {e}") from None
        if not isinstance(doc, dict):
            raise UserError(f"{path}: an environment file is a mapping with channels: and dependencies:")
        for c in doc.get("channels") or []:
            inputs.channels.append(str(c))
        for d in doc.get("dependencies") or []:
            if isinstance(d, dict):
                raise UserError(f"{path}: pip dependencies ({d!r}) are not supported")
            inputs.specs.append(str(d))
        return
    inputs.specs.extend(ln.split("#", 1)[0].strip() for ln in lines if ln and not ln.startswith("#"))


# --- prefix and package cache ------------------------------------------------------------------


def default_pkgs_dir() -> Path:
    env = os.environ.get("CONDA_PKGS_DIRS")
    if env:
        return Path(env.split(",")[0]).expanduser()
    cache = os.environ.get("BTD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "backtest-deploy"
    )
    return Path(cache) / "rattler-mamba-pkgs"


def prepare_prefix(prefix: Path, pkgs_dir: Path, yes: bool, dry_run: bool) -> None:
    if pkgs_dir == prefix or prefix in pkgs_dir.parents:
        raise UserError(f"the package cache {pkgs_dir} must not be inside the prefix {prefix}")
    if not prefix.exists():
        return
    if not prefix.is_dir():
        raise UserError(f"{prefix} exists and is not a folder")
    if not any(prefix.iterdir()):
        return
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"Non-conda folder exists at prefix {prefix}: remove it or choose another prefix")
    if not yes:
        raise UserError(f"a conda environment exists at {prefix}: pass -y to overwrite it")
    if not dry_run:
        shutil.rmtree(prefix)


# --- solve and install -------------------------------------------------------------------------


def record_info(r) -> dict:  # noqa: ANN001 (a rattler RepoDataRecord)
    return {
        "name": r.name.normalized,
        "version": str(r.version),
        "build_string": str(r.build),
        "build_number": r.build_number,
        "channel": r.channel,
        "subdir": r.subdir,
        "url": r.url,
        "fn": r.file_name,
        "md5": r.md5.hex() if r.md5 else None,
    }


async def solve(specs: list[str], channels: list[str], pkgs_dir: Path):  # noqa: ANN201
    import rattler
    from rattler.exceptions import (
        InvalidMatchSpecError,
        InvalidPackageNameError,
        InvalidVersionSpecError,
        SolverError,
    )

    gateway = rattler.Gateway(cache_dir=pkgs_dir / "cache")
    try:
        return await rattler.solve(
            sources=[rattler.Channel(c) for c in channels],
            specs=specs,
            gateway=gateway,
            platforms=[PLATFORM, "noarch"],
            virtual_packages=rattler.VirtualPackage.detect(),
        )
    except SolverError as e:
        raise UserError(f"Could not solve for environment specs\n{e}") from None
    except (InvalidMatchSpecError, InvalidPackageNameError, InvalidVersionSpecError) as e:
        raise UserError(f"invalid spec: {e}") from None


async def explicit_records(lines: list[str], pkgs_dir: Path, offline: bool):  # noqa: ANN201
    """Records for an explicit lock: each URL looked up in its channel's repodata, hashes checked."""
    import rattler

    gateway = rattler.Gateway(cache_dir=pkgs_dir / "cache")
    records = []
    for line in lines:
        url, _, digest = line.partition("#")
        base, sep, fn = url.rpartition("/")
        channel, _, subdir = base.rpartition("/")
        if not sep or not channel or not fn.endswith((".conda", ".tar.bz2")):
            raise UserError(f"explicit lock: {line!r} is not a package URL")
        check_channel(channel, offline)
        name = fn.removesuffix(".conda").removesuffix(".tar.bz2").rsplit("-", 2)[0]
        result = await gateway.query(
            sources=[rattler.Channel(channel)], platforms=[subdir], specs=[name], recursive=False
        )
        match = [r for group in result for r in group if r.url == url]
        if not match:
            raise UserError(f"explicit lock: {url} is not in the channel {channel} ({subdir}/repodata.json)")
        r = match[0]
        if digest:
            algo, _, value = digest.rpartition(":") if ":" in digest else ("md5", "", digest)
            actual = r.sha256 if algo == "sha256" else r.md5
            if actual is None or actual.hex() != value.lower():
                raise UserError(
                    f"explicit lock: {algo} of {url} is {actual.hex() if actual else 'unknown'}, lock says {value}"
                )
        records.append(r)
    return records


async def create(args: argparse.Namespace) -> int:
    import rattler

    prefix = Path(args.prefix).expanduser().absolute()
    pkgs_dir = Path(args.pkgs_dir).expanduser().absolute() if args.pkgs_dir else default_pkgs_dir().absolute()
    inputs = Inputs()
    inputs.specs.extend(args.specs)
    for f in args.file:
        read_file_input(f, inputs)
    if inputs.explicit and inputs.specs:
        raise UserError("an explicit lock (@EXPLICIT) cannot be combined with specs")
    if not inputs.explicit and not inputs.specs:
        raise UserError("nothing to install: give specs or --file")
    prepare_prefix(prefix, pkgs_dir, args.yes, args.dry_run)
    pkgs_dir.mkdir(parents=True, exist_ok=True)

    if inputs.explicit:
        records = await explicit_records(inputs.explicit, pkgs_dir, args.offline)
        requested = None
    else:
        channels = resolve_channels(args.channel, inputs.channels, args.offline)
        records = await solve(inputs.specs, channels, pkgs_dir)
        # py-rattler 0.28's install() wants the native spec objects here (its own wrapper fails).
        requested = [rattler.MatchSpec(s)._match_spec for s in inputs.specs]

    infos = sorted((record_info(r) for r in records), key=lambda i: i["name"])
    say(args, f"Transaction\n\n  Prefix: {prefix}\n\n  Install {len(infos)} packages:")
    for i in infos:
        say(args, f"  + {i['name']:<16} {i['version']:<10} {i['build_string']:<12} {i['channel']}")
    if args.dry_run:
        say(args, "\nDry run: nothing installed.")
    else:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=pkgs_dir,
            show_progress=False,
            execute_link_scripts=False,
            requested_specs=requested,
        )
        say(args, "\nTransaction finished")
    if args.json:
        print(json.dumps({"success": True, "dry_run": args.dry_run, "prefix": str(prefix),
                          "actions": {"PREFIX": str(prefix), "LINK": infos}}, indent=2))
    return 0


# --- list and run ------------------------------------------------------------------------------


def prefix_records(prefix: Path):  # noqa: ANN201
    from rattler import PackageRecord, PrefixRecord

    meta = prefix / "conda-meta"
    if not meta.is_dir():
        raise UserError(f"{prefix} is not a conda environment (no conda-meta)")
    records = [PrefixRecord.from_path(p) for p in sorted(meta.glob("*.json"))]
    # Dependencies first (conda's order), names breaking ties.
    by_key = {(str(r.name.normalized), str(r.version), str(r.build)): r for r in records}
    ordered = PackageRecord.sort_topologically(sorted(records, key=lambda r: r.name.normalized))
    return [by_key[(str(r.name.normalized), str(r.version), str(r.build))] for r in ordered]


def cmd_list(args: argparse.Namespace) -> int:
    prefix = Path(args.prefix).expanduser().absolute()
    records = prefix_records(prefix)
    if args.explicit:
        print("# This file may be used to create an environment using:")
        print("# $ conda create --name <env> --file <this file>")
        print(f"# platform: {PLATFORM}")
        print("@EXPLICIT")
        for r in records:
            print(f"{r.url}#{r.md5.hex()}" if args.md5 and r.md5 else r.url)
        return 0
    records = sorted(records, key=lambda r: r.name.normalized)
    if args.json:
        out = []
        for r in records:
            base = r.url.rsplit("/", 2)[0]
            out.append({
                "base_url": base,
                "build_number": r.build_number,
                "build_string": str(r.build),
                "channel": r.channel,
                "dist_name": r.file_name.removesuffix(".conda").removesuffix(".tar.bz2"),
                "name": r.name.normalized,
                "platform": r.subdir,
                "version": str(r.version),
                "url": r.url,
                "md5": r.md5.hex() if r.md5 else None,
            })
        print(json.dumps(out, indent=2))
        return 0
    print(f"# packages in environment at {prefix}:\n#")
    print(f"# {'Name':<22} {'Version':<12} {'Build':<14} Channel")
    for r in records:
        print(f"{r.name.normalized:<24} {str(r.version):<12} {str(r.build):<14} {r.channel}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    prefix = Path(args.prefix).expanduser().absolute()
    if not (prefix / "conda-meta").is_dir():
        raise UserError(f"{prefix} is not a conda environment (no conda-meta)")
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise UserError("run: no command given")
    env = dict(os.environ)
    env["PATH"] = f"{prefix / 'bin'}{os.pathsep}{env['PATH']}" if env.get("PATH") else str(prefix / "bin")
    env["CONDA_PREFIX"] = str(prefix)
    env["CONDA_DEFAULT_ENV"] = str(prefix)
    env["CONDA_SHLVL"] = "1"
    exe = shutil.which(cmd[0], path=env["PATH"])
    if exe is None:
        raise UserError(f"run: command not found: {cmd[0]}")
    sys.stdout.flush()
    os.execve(exe, cmd, env)
    return 127  # not reached


# --- command line ------------------------------------------------------------------------------


def add_install_options(p: argparse.ArgumentParser, file_flags: tuple[str, ...]) -> None:
    p.add_argument("-p", "--prefix", required=True, help="environment prefix (absolute path)")
    p.add_argument("-n", "--name", help=argparse.SUPPRESS)
    p.add_argument("-y", "--yes", action="store_true", help="do not ask; overwrite an existing env")
    p.add_argument("-c", "--channel", action="append", default=[], help="channel folder or file:// URL")
    p.add_argument("--override-channels", action="store_true", help="accepted (there are no default channels)")
    p.add_argument("--strict-channel-priority", action="store_true", help="accepted (the default)")
    p.add_argument("--offline", action="store_true", help="refuse channels that are not local")
    p.add_argument("--pkgs-dir", help="package cache (default $CONDA_PKGS_DIRS or $BTD_CACHE/rattler-mamba-pkgs)")
    p.add_argument(*file_flags, dest="file", action="append", default=[], help="env.yml, explicit lock or spec list")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true", help="print the transaction as JSON")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-rc", action="store_true", help=argparse.SUPPRESS)


def parsers() -> dict[str, argparse.ArgumentParser]:
    top = argparse.ArgumentParser(prog="rattler-mamba", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="store_true", help="print the version")
    top.add_argument("command", nargs="?", choices=["create", "env", "list", "run"])
    create_p = argparse.ArgumentParser(prog="rattler-mamba create")
    add_install_options(create_p, ("--file", "-f"))
    create_p.add_argument("specs", nargs="*", metavar="SPEC")
    env_create = argparse.ArgumentParser(prog="rattler-mamba env create")
    add_install_options(env_create, ("-f", "--file"))
    env_create.add_argument("specs", nargs="*", metavar="SPEC")
    list_p = argparse.ArgumentParser(prog="rattler-mamba list")
    list_p.add_argument("-p", "--prefix", required=True)
    list_p.add_argument("-n", "--name", help=argparse.SUPPRESS)
    list_p.add_argument("--explicit", action="store_true", help="an explicit lock (@EXPLICIT and URLs)")
    list_p.add_argument("--md5", action="store_true", help="with --explicit: append #md5 to each URL")
    list_p.add_argument("--json", action="store_true")
    list_p.add_argument("-q", "--quiet", action="store_true")
    run_p = argparse.ArgumentParser(prog="rattler-mamba run")
    run_p.add_argument("-p", "--prefix", required=True)
    run_p.add_argument("-n", "--name", help=argparse.SUPPRESS)
    run_p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD")
    return {"": top, "create": create_p, "env create": env_create, "list": list_p, "run": run_p}


def main(argv: list[str]) -> int:
    log_invocation(argv)
    ps = parsers()
    if not argv or argv[0].startswith("-"):
        args = ps[""].parse_args(argv)
        if args.version:
            print(f"rattler-mamba {VERSION} (py-rattler {rattler_version()})")
            return 0
        ps[""].print_help(sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "env":
        if rest[:1] != ["create"]:
            raise UserError("only `env create` is supported")
        command, rest = "env create", rest[1:]
    if command not in ps:
        ps[""].print_usage(sys.stderr)
        raise UserError(f"unknown command {command!r} (supported: create, env create, list, run)")
    p = ps[command]
    args = p.parse_intermixed_args(rest) if command in ("create", "env create") else p.parse_args(rest)
    if getattr(args, "name", None):
        raise UserError("-n/--name is not supported: use -p/--prefix")
    if command in ("create", "env create"):
        return asyncio.run(create(args))
    if command == "list":
        return cmd_list(args)
    return cmd_run(args)


def entry() -> int:
    try:
        return main(sys.argv[1:])
    except UserError as e:
        print(f"rattler-mamba: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # an engine error (download, link, ...): its own words, exit 1
        if not type(e).__module__.startswith(("rattler", "exceptions")):
            raise
        print(f"rattler-mamba: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    code = entry()
    # py-rattler 0.28 sometimes crashes (SIGSEGV/SIGABRT) in interpreter teardown after all work is
    # done (its runtime threads): leave without the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
