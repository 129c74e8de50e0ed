#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: build the kernel with our files for 32-bit ARM (the refcnt-y
# test configuration, sharing its build directory), boot it in QEMU (virt,
# 2 CPUs) with KUnit disabled and a tiny initramfs, and print what VCM
# said and registered at boot.
source "$(dirname "$0")/common.sh"

cfg=refcnt-y
ensure_packages
kernel_tree
overlay

bdir=$VCM_CACHE/build/$TREE_ID-$cfg
rundir=$bdir/vcm-run
mkdir -p "$rundir"
log "building in $bdir (kunit.py output: $rundir/build.out)"
kunitconfigs "$cfg"
kunit build --build_dir="$bdir" "${KUNITCONFIGS[@]}" >"$rundir/build.out" 2>&1 ||
	{ tail -30 "$rundir/build.out"; exit 1; }

"${CROSS_COMPILE}gcc" -static -O2 -Wall -o "$rundir/init" "$HARNESS/run-init.c"
cat >"$rundir/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /sys 0755 0 0
file /init $rundir/init 0755 0 0
LIST
"$bdir/usr/gen_init_cpio" "$rundir/initramfs.list" >"$rundir/initramfs.cpio"

log "booting in QEMU (full console: $rundir/console.log)"
rc=0
timeout 300 qemu-system-arm -nodefaults -machine virt -m 1024 -smp 2 \
	-kernel "$bdir/arch/arm/boot/zImage" -initrd "$rundir/initramfs.cpio" \
	-append "console=ttyAMA0 kunit.enable=0 panic=-1" \
	-no-reboot -nographic -serial stdio </dev/null >"$rundir/console.log" 2>&1 || rc=$?

if ! grep -q '^vcm-run: end' "$rundir/console.log"; then
	echo "the kernel did not boot to the VCM report (qemu exit $rc); console tail:" >&2
	tail -30 "$rundir/console.log" >&2
	exit 1
fi
sed -n '/^vcm-run: begin/,/^vcm-run: end/p' "$rundir/console.log" | sed '1d;$d' | tr -d '\r'
