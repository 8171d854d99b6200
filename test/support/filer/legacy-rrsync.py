#!/usr/bin/python3 -I
"""Stand-in for the Perl rrsync of rsync <= 3.2.3 ("rrsync-3.2.3.pl").

Written for backtest-deploy's test filer from the behaviour documented in
shared/rrsync-compat.md, not from upstream code. It checks the command line
that the client rsync sends to the server side the way the old script did:
a fixed list of options, -ro/-wo only, no lock, no "..", a leading "/" taken
under the root. Anything it does not know dies with the old script's message.
"""

import os
import re
import sys

RSYNC = "/usr/bin/rsync"
INVALID = "invalid rsync-command syntax or options"

# Long options the old script lets through, with whether they carry a value
# and whether that value is a path that must be re-rooted.
PLAIN, VALUE, PATH = 0, 1, 2
LONG_OPTIONS = {
    "append": PLAIN, "backup-dir": PATH, "block-size": VALUE, "bwlimit": VALUE,
    "checksum-choice": VALUE, "checksum-seed": VALUE, "compare-dest": PATH,
    "compress-choice": VALUE, "compress-level": VALUE, "copy-dest": PATH,
    "copy-unsafe-links": PLAIN, "delay-updates": PLAIN, "delete": PLAIN,
    "delete-after": PLAIN, "delete-before": PLAIN, "delete-delay": PLAIN,
    "delete-during": PLAIN, "delete-excluded": PLAIN,
    "delete-missing-args": PLAIN, "existing": PLAIN, "fake-super": PLAIN,
    "files-from": PATH, "force": PLAIN, "from0": PLAIN, "fuzzy": PLAIN,
    "group": PLAIN, "groupmap": VALUE, "hard-links": PLAIN, "iconv": VALUE,
    "ignore-errors": PLAIN, "ignore-existing": PLAIN,
    "ignore-missing-args": PLAIN, "ignore-times": PLAIN, "info": VALUE,
    "inplace": PLAIN, "link-dest": PATH, "links": PLAIN, "list-only": PLAIN,
    "log-file": VALUE, "log-format": VALUE, "max-alloc": VALUE,
    "max-delete": VALUE, "max-size": VALUE, "min-size": VALUE,
    "modify-window": VALUE, "new-compress": PLAIN, "no-implied-dirs": PLAIN,
    "no-r": PLAIN, "no-relative": PLAIN, "no-specials": PLAIN,
    "numeric-ids": PLAIN, "old-compress": PLAIN, "one-file-system": PLAIN,
    "only-write-batch": VALUE, "open-noatime": PLAIN, "owner": PLAIN,
    "partial": PLAIN, "partial-dir": PATH, "perms": PLAIN,
    "preallocate": PLAIN, "recursive": PLAIN, "remove-sent-files": PLAIN,
    "remove-source-files": PLAIN, "safe-links": PLAIN, "sender": PLAIN,
    "server": PLAIN, "size-only": PLAIN, "skip-compress": VALUE,
    "specials": PLAIN, "stats": PLAIN, "suffix": VALUE, "super": PLAIN,
    "temp-dir": PATH, "timeout": VALUE, "times": PLAIN, "use-qsort": PLAIN,
    "usermap": VALUE,
}
NOT_WITH_RO = ("log-file", "remove-sent-files", "remove-source-files")
NOT_WITH_WO = ("sender",)

# The trailing "e<digits>.<letters>" is the capability blob rsync appends to
# its short-option cluster; it is not a set of options.
SHORT_CLUSTER = re.compile(r"^-[ACDEHIJKLORUWXbcdgklmnopqrtuvxyz]*(e\d*\.\w*)?$")
SHORT_WITH_NUMBER = re.compile(r"^-[@B]\d+$")
DOT_DOT = re.compile(r"(^|/)\.\.(/|$)")


def die(*words):
    print(sys.argv[0] + ":", *words, file=sys.stderr)
    sys.exit(1)


def split_command(command):
    """Split on unescaped blanks and drop the backslashes rsync adds to protect
    special characters (there is no shell between us and rsync to do it)."""
    words = re.findall(r"(?:[^\s\\]|\\.)+", command)
    return [re.sub(r"\\(.)", r"\1", w) for w in words]


def reroot(path):
    if DOT_DOT.search(path):
        die("do not use .. in", path)
    path = path.lstrip("/")
    return path if path else "."


def parse_mode(argv):
    mode = None
    rest = []
    for arg in argv:
        if arg in ("-ro", "-wo"):
            if mode:
                die("only one of -ro and -wo")
            mode = arg
        elif arg.startswith("-"):
            die("unknown rrsync option", arg, "(this version knows only -ro and -wo)")
        else:
            rest.append(arg)
    if len(rest) != 1:
        die("usage: rrsync [-ro|-wo] DIR")
    return mode, rest[0]


def check_options(words, mode, root):
    """Return the server options with path values re-rooted; die on anything unknown."""
    options = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if SHORT_CLUSTER.match(word) or SHORT_WITH_NUMBER.match(word):
            options.append(word)
            continue
        match = re.match(r"^--([^=]+)(?:=(.*))?$", word)
        if not match:
            die(INVALID)
        name, value = match.group(1), match.group(2)
        kind = LONG_OPTIONS.get(name)
        if kind is None:
            die(INVALID)
        if mode == "-ro" and name in NOT_WITH_RO:
            die(INVALID)
        if mode == "-wo" and name in NOT_WITH_WO:
            die(INVALID)
        if kind == PLAIN:
            if value is not None:
                die(INVALID)
            options.append(word)
            continue
        if value is None:
            # rsync sends some valued options as two words ("--temp-dir", "X").
            if i >= len(words):
                die(INVALID)
            value = words[i]
            i += 1
        if kind == PATH and not (name == "files-from" and value == "-"):
            # Absolute, because rsync takes a relative basis dir from the destination.
            value = os.path.join(root, reroot(value))
        options.append("--" + name + "=" + value)
    return options


def main():
    mode, root = parse_mode(sys.argv[1:])
    command = os.environ.get("SSH_ORIGINAL_COMMAND")
    if not command:
        die("Not invoked via sshd")
    words = split_command(command)
    if words[:2] != ["rsync", "--server"]:
        die(INVALID)
    words = words[2:]
    if "." not in words:
        die(INVALID)
    dot = words.index(".")
    option_words, path_words = words[:dot], words[dot + 1:]
    am_sender = "--sender" in option_words
    if mode == "-ro" and not am_sender:
        die("sending to read-only server not allowed")
    if mode == "-wo" and am_sender:
        die("reading from write-only server not allowed")
    root = os.path.realpath(root)
    options = check_options(option_words, mode, root)
    paths = [reroot(p) for p in path_words] or ["."]
    try:
        os.chdir(root)
    except OSError as e:
        die("cannot chdir to", root + ":", e.strerror)
    os.execv(RSYNC, [RSYNC, "--server", *[o for o in options if o != "--server"], ".", *paths])


if __name__ == "__main__":
    main()
