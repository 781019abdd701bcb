"""make install: PREFIX and DESTDIR place the binary, libmemobs.so (and the
preloaded libraries when built), the marker header, the Python module and
the man page; the installed memobs finds its library from where it is, and
a C program built against the installed header and the installed Python
module both mark phases it sees."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, ROOT, run_tests  # noqa: E402

C_PROGRAM = r"""#include <stdlib.h>
#include <string.h>
#include <memobs/markers.h>
int main(void)
{
	char *p;

	MEMOBS_PHASE_BEGIN("c-phase");
	p = malloc(8 << 20);
	memset(p, 1, 8 << 20);
	MEMOBS_ITEMS(8);
	MEMOBS_PHASE_END("c-phase");
	free(p);
	return 0;
}
"""

PY_PROGRAM = """import memobs
print("LIB", memobs.library_path())
with memobs.phase("py-phase"):
    data = bytearray(8 << 20)
"""


def make_install(*args):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "BUILD=" + BUILD, "install"] + list(args),
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr


def python_dir(prefix):
    found = [os.path.join(dp) for dp, _, files in os.walk(os.path.join(prefix, "lib")) if "memobs.py" in files]
    assert len(found) == 1, found
    return found[0]


def test_installed_memobs_works_from_its_prefix():
    d = tempfile.mkdtemp(prefix="memobs-install-")
    try:
        prefix = os.path.join(d, "x")
        make_install("PREFIX=" + prefix)
        for f in ("bin/memobs", "lib/libmemobs.so", "include/memobs/markers.h", "share/man/man1/memobs.1"):
            assert os.path.isfile(os.path.join(prefix, f)), f
        with open(os.path.join(prefix, "share/man/man1/memobs.1")) as f:
            man = f.read()
        assert ".SH SUBCOMMANDS" in man and ".SS memobs report" in man and "\\-\\-heap" in man, man[:500]
        with open(os.path.join(d, "marker.c"), "w") as f:
            f.write(C_PROGRAM)
        with open(os.path.join(d, "marker.py"), "w") as f:
            f.write(PY_PROGRAM)
        subprocess.run(["cc", "-I" + os.path.join(prefix, "include"), os.path.join(d, "marker.c"), "-o",
                        os.path.join(d, "marker")], check=True)
        env = dict(os.environ, PYTHONPATH=python_dir(prefix))
        out = os.path.join(d, "run.json")
        p = subprocess.run([os.path.join(prefix, "bin", "memobs"), "-q", "-o", out, "--", "sh", "-c",
                            "%s && /usr/bin/python3 %s" % (os.path.join(d, "marker"), os.path.join(d, "marker.py"))],
                           capture_output=True, text=True, timeout=120, env=env)
        assert p.returncode == 0, p.stderr
        # The module loaded the library the installed memobs attached to: the installed one.
        assert "LIB %s\n" % os.path.join(prefix, "lib", "libmemobs.so") in p.stdout, p.stdout
        with open(out) as f:
            phases = {ph["name"]: ph for ph in json.load(f)["phases"]}
        assert "c-phase" in phases and phases["c-phase"]["items"] == 8, list(phases)
        assert "py-phase" in phases, list(phases)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_destdir_stages_under_the_prefix():
    d = tempfile.mkdtemp(prefix="memobs-destdir-")
    try:
        make_install("DESTDIR=" + d, "PREFIX=/usr")
        staged = sorted(os.path.relpath(os.path.join(dp, f), d) for dp, _, files in os.walk(d) for f in files)
        # The preloaded libraries too, when this build has them.
        preloads = ["usr/lib/" + f for f in os.listdir(BUILD) if f.startswith("libmemobs-") and f.endswith(".so")]
        assert staged == sorted(["usr/bin/memobs", "usr/include/memobs/markers.h", "usr/lib/libmemobs.so",
                                 "usr/lib/python3/dist-packages/memobs.py", "usr/share/man/man1/memobs.1"]
                                + preloads), staged
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run_tests(globals())
