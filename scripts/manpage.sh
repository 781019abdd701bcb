#!/usr/bin/env bash
# The man page of memobs, generated from its own --help (help2man, Debian
# package help2man): the run options as help2man reads them, then every
# subcommand's --help as it prints it. Usage: scripts/manpage.sh BUILD/memobs
set -euo pipefail
memobs=$1
command -v help2man >/dev/null || { echo "manpage: missing help2man (Debian package help2man)" >&2; exit 1; }
include=$(mktemp)
trap 'rm -f "$include"' EXIT

# roff: a backslash is \e, a line may not start with . or '
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

{
	echo "[SUBCOMMANDS]"
	echo "memobs SUBCOMMAND --help prints what follows."
	"$memobs" help | sed -n '/^subcommands:/,/^$/{s/^  \([a-z][a-z-]*\)  *.*/\1/p}' | while read -r sub; do
		echo ".SS memobs $sub"
		echo ".nf"
		"$memobs" "$sub" --help 2>&1 | roff
		echo ".fi"
	done
	echo "[SEE ALSO]"
	echo "The README of memobs: the run document, phases and markers, exit codes, hardening."
} >"$include"
help2man --no-info --no-discard-stderr --name "observe the memory of a command, a process or the host (eBPF)" \
	--section 1 --include "$include" "$memobs"
