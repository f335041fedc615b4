#!/bin/sh
# Re-make every capture in this directory with `dmdissect synth`.
# The same seed gives the same bytes: running this must leave `git status` clean.
#
# usage: captures/regenerate.sh [OUTDIR]      (default: the directory of this script)
# PYTHON names the interpreter that has dmdissect's dependencies (default: python3);
# the package is taken from this checkout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
cd "$here/.."
dmdissect() { "${PYTHON:-python3}" -m dmdissect "$@"; }

dmdissect synth --profile linux-qemu --seed 2 -o "$out/linux-qemu.pcapng"
dmdissect synth --profile windows-hyperv --seed 0 -o "$out/windows-hyperv.pcapng"
dmdissect synth --profile faulty --seed 1 -o "$out/faulty.pcapng"
dmdissect synth --profile linux-qemu --seed 3 --vmbus -o "$out/linux-qemu-vmbus.pcapng"
dmdissect synth --profile linux-qemu --seed 2 --duration 75 --format hex -o "$out/linux-qemu-dmesg.log"
dmdissect synth --profile linux-qemu --seed 2 --format qemu-trace -o "$out/linux-qemu-trace.log"
dmdissect synth --profile linux-qemu --seed 2 --format qmp -o "$out/linux-qemu-qmp.log"
dmdissect synth --profile linux-qemu --seed 2 --format dmesg -o "$out/linux-qemu-guest-dmesg.log"
dmdissect synth --profile linux-qemu --seed 2 --format ftrace -o "$out/linux-qemu-guest-ftrace.txt"
