#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build the kernel with the vcm_bench suite and without the
# debug options, boot it under QEMU (virt, 2 CPUs, 512 MiB), and print the
# table of VCM against its peers, measured in that one boot.  The results
# are also written as JSON to $VCM_CACHE/build/<tree>-bench/vcm-bench.json.
# Exits non-zero only if the benchmark could not run.
source "$(dirname "$0")/common.sh"

ensure_packages
kernel_tree
overlay

bdir=$VCM_CACHE/build/$TREE_ID-bench
mkdir -p "$bdir"
rm -f "$bdir/test.log" "$bdir/vcm-bench.json"
log "bench: build and run in $bdir (kunit.py output: $bdir/vcm-kunit.out)"
start=$(date +%s)
rc=0
kunit run --build_dir="$bdir" --kunitconfig="$HARNESS/configs/base.config" \
	--kunitconfig="$HARNESS/configs/arch-arm.config" \
	--kunitconfig="$HARNESS/configs/bench.config" \
	--qemu_args='-smp 2 -m 512' --kernel_args='panic=-1' \
	--timeout="${VCM_TIMEOUT:-900}" 'vcm_bench' >"$bdir/vcm-kunit.out" 2>&1 || rc=$?
log "bench: kunit.py exited $rc after $(( $(date +%s) - start ))s"
python3 "$HARNESS/bench-table.py" "$bdir/test.log" "$bdir/vcm-bench.json"
