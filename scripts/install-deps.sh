#!/usr/bin/env bash
# Install the Debian packages memobs needs. Idempotent and silent when all are present; run
# as root (or under sudo).
#   scripts/install-deps.sh          to build, install and run memobs (make, make install, make demo)
#   scripts/install-deps.sh --test   also what the tests check it with (make test, .ci/run)
set -euo pipefail

packages=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcjson-dev
	systemtap-sdt-dev libdw-dev libcapstone-dev libncurses-dev libprotobuf-c-dev protobuf-c-compiler
	pkg-config
	# the man page of make install, from memobs --help
	help2man
	# the bundled demo is a Python build; the Python marker module
	python3
)
test_packages=(
	# ground truth (/usr/bin/time), the ASan runtime, git,
	# the run document checked against its schema (python3-jsonschema),
	# rendering the SVG and the HTML page, driving the live view
	time libclang-rt-14-dev git python3-jsonschema librsvg2-bin chromium fonts-dejavu-core tmux
	# the allocators memobs --heap must find and probe (tests/*/test_allocators*)
	libjemalloc2 libjemalloc-dev libtcmalloc-minimal4 libgoogle-perftools-dev
	libmimalloc2.0 libmimalloc-dev musl-tools
	protobuf-compiler
	# --serve: a real Prometheus server scraping it, and promtool
	prometheus
	# the kernel's workqueue seen detaching memobs's links after it stops (test_teardown)
	bpftrace
)
case "${1:-}" in
--test) packages+=("${test_packages[@]}") ;;
"") ;;
*) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root: sudo $0 $*" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
