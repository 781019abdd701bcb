#!/bin/sh
# Rebuild the ELF seeds of corpus/elf from elf_seed.c: static, PIE with an
# interpreter, shared object, stripped. Small on purpose (libFuzzer mutates
# every byte). Usage: tests/fuzz/make-elf-seeds.sh
set -eu
cd "$(dirname "$0")"
out=corpus/elf
flags="-Os -nostdlib -fno-asynchronous-unwind-tables -fno-stack-protector -Wl,--build-id -Wl,-z,norelro -Wl,-z,noseparate-code"
gcc $flags -static -o $out/static-usdt elf_seed.c
gcc $flags -fPIE -pie -Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2 -o $out/pie-interp elf_seed.c
gcc $flags -fPIC -shared -o $out/shared-lib.so elf_seed.c
strip --strip-all -o $out/stripped-static $out/static-usdt
ls -l $out
