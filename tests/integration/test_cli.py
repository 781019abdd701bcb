"""The command line, the same for every subcommand: --help fits 100 columns and
`memobs --help` lists every subcommand and --version; a mistake is two lines,
"memobs SUB: what" then "Try 'memobs SUB --help' for more information.", exit 2;
other messages say "memobs SUB: what: why"; --history PATH with a space in a run."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import MEMOBS, Skip, run_tests

TMP = tempfile.mkdtemp(prefix="memobs-cli-")
SUBCOMMANDS = ("mark", "history", "compare", "check", "report", "scale")


def memobs(*args, cwd=None):
    return subprocess.run([MEMOBS] + list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def test_help_lists_every_subcommand_and_version_in_100_columns():
    p = memobs("--help")
    assert p.returncode == 0 and p.stderr == "", (p.returncode, p.stderr)
    assert p.stdout.startswith("usage: memobs [OPTIONS] -- COMMAND"), p.stdout[:200]
    for sub in SUBCOMMANDS:
        assert "\n  %s " % sub in p.stdout, (sub, p.stdout)
    assert "--version" in p.stdout, p.stdout
    for name in ("",) + SUBCOMMANDS:
        p = memobs(*([name, "--help"] if name else ["--help"]))
        assert p.returncode == 0, (name, p.returncode, p.stderr)
        assert p.stdout.startswith("usage: memobs" + (" " + name if name else "")), (name, p.stdout[:100])
        assert "options:" in p.stdout and "-h, --help" in p.stdout, (name, p.stdout)
        wide = [l for l in p.stdout.splitlines() if len(l) > 100]
        assert not wide, (name, wide)
    mark = memobs("mark", "--help").stdout
    assert "begin NAME" in mark and "items N" in mark and "without an observer" in mark, mark
    p = memobs("--version")
    assert p.returncode == 0 and p.stdout.startswith("memobs "), p.stdout


def test_a_typo_is_two_lines_and_exit_2():
    for name in ("",) + SUBCOMMANDS:
        who = "memobs" + (" " + name if name else "")
        p = memobs(*([name] if name else []), "--bogus-option", "x")
        lines = p.stderr.splitlines()
        assert p.returncode == 2 and p.stdout == "", (name, p.returncode, p.stdout)
        assert lines == [who + ": unrecognized option '--bogus-option'",
                         "Try '%s --help' for more information." % who], (name, p.stderr)
    p = memobs("-o")
    assert p.stderr.splitlines() == ["memobs: option requires an argument -- 'o'",
                                     "Try 'memobs --help' for more information."], p.stderr
    p = memobs("--live=yes", "true")
    assert p.returncode == 2 and p.stderr.splitlines()[0] == "memobs: option '--live' doesn't allow an argument", \
        p.stderr
    p = memobs("--heap=yes", "true")
    assert p.returncode == 2 and p.stderr.splitlines()[0] == "memobs: --heap=yes: the only choice is --heap=uprobes", \
        p.stderr
    p = memobs("check", "--run")
    assert p.returncode == 2 and p.stderr.splitlines()[0] == "memobs check: option '--run' requires an argument", \
        p.stderr


def test_messages_name_the_subcommand():
    missing = os.path.join(TMP, "none.jsonl")
    p = memobs("history", "--history", missing)
    assert p.returncode == 2 and p.stderr.startswith("memobs history: no history at " + missing), p.stderr
    assert len(p.stderr.splitlines()) == 1, p.stderr
    p = memobs("mark", "items", "ten")
    assert p.returncode == 2 and p.stderr.startswith("memobs mark: items: 'ten' is not a count"), p.stderr


def test_history_path_with_a_space_in_a_run():
    if os.geteuid() != 0:
        raise Skip("needs root to trace (run the tests with sudo)")
    d = os.path.join(TMP, "space")
    os.makedirs(d)
    hist = os.path.join(d, "h.jsonl")
    # It used to run h.jsonl as the command (exit 127).
    p = memobs("-q", "--history", hist, "--label", "spaced", "--", "true", cwd=d)
    assert p.returncode == 0, (p.returncode, p.stderr)
    with open(hist) as f:
        lines = f.read().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["label"] == "spaced", lines
    # Without --, what follows --history is the command: the default history.
    p = memobs("-q", "--history", "true", cwd=d)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert os.path.exists(os.path.join(d, ".memobs", "history.jsonl")), os.listdir(d)
    # ... unless it names a history file: a usage error, nothing run.
    p = memobs("-q", "--history", hist, "true", cwd=d)
    assert p.returncode == 2 and "--history=" in p.stderr.splitlines()[0], p.stderr
    with open(hist) as f:
        assert len(f.read().splitlines()) == 1, "nothing appended"


def test_a_misspelt_subcommand_not_found_says_which_it_meant():
    if os.geteuid() != 0:
        raise Skip("needs root to trace (run the tests with sudo)")
    p = memobs("chekc", cwd=TMP)
    assert p.returncode == 127, (p.returncode, p.stderr)
    assert p.stderr.splitlines() == ["memobs: chekc: command not found; did you mean 'memobs check'? "
                                     "(to run a program so named: memobs -- chekc)"], p.stderr
    # After -- (or options) the word was meant as a command; far from every subcommand, no guess.
    for args in (["--", "chekc"], ["nosuchcommand"]):
        p = memobs(*args, cwd=TMP)
        assert p.returncode == 127 and p.stderr.splitlines() == ["memobs: cannot run '%s': No such file or directory"
                                                                 % args[-1]], (args, p.returncode, p.stderr)
    # A program so named is run, first argument or not.
    bindir = os.path.join(TMP, "bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "chekc"), "w") as f:
        f.write("#!/bin/sh\nexit 7\n")
    os.chmod(os.path.join(bindir, "chekc"), 0o755)
    p = subprocess.run([MEMOBS, "chekc"], capture_output=True, text=True, timeout=120, cwd=TMP,
                       env=dict(os.environ, PATH=bindir + ":" + os.environ["PATH"]))
    assert p.returncode == 7 and "did you mean" not in p.stderr, (p.returncode, p.stderr)


try:
    run_tests(globals())
finally:
    shutil.rmtree(TMP, ignore_errors=True)
