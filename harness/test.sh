#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: build the kernel with our files for 32-bit ARM and run the VCM
# KUnit suites under QEMU (virt, 2 CPUs), once per configuration, with the
# debug options on; then builds VCM's objects for x86_64 with COMPILE_TEST.
# Ends with "N passed, N failed, N skipped".
source "$(dirname "$0")/common.sh"

CONFIGS=${VCM_CONFIGS-refcnt-y refcnt-n}
[ -n "${CONFIGS// /}" ] || { echo "VCM_CONFIGS names no configuration" >&2; exit 1; }
TIMEOUT=${VCM_TIMEOUT:-900}	# a boot ends in seconds; this catches a hang

ensure_packages
kernel_tree
overlay

runs=()
for cfg in $CONFIGS; do
	bdir=$VCM_CACHE/build/$TREE_ID-$cfg
	mkdir -p "$bdir"
	rm -f "$bdir/vcm-results.json" "$bdir/test.log"
	kunitconfigs "$cfg"
	log "$cfg: build and run in $bdir (kunit.py output: $bdir/vcm-kunit.out)"
	start=$(date +%s)
	rc=0
	kunit run --build_dir="$bdir" "${KUNITCONFIGS[@]}" \
		--qemu_args='-smp 2' --kernel_args='panic=-1 earlycon' --timeout="$TIMEOUT" \
		--json="$bdir/vcm-results.json" 'vcm*' >"$bdir/vcm-kunit.out" 2>&1 || rc=$?
	grep -E '^\[[0-9:]+\] (Elapsed|Testing complete|=+ |\[(PASSED|FAILED|SKIPPED|CRASHED)\])' \
		"$bdir/vcm-kunit.out" || true
	log "$cfg: kunit.py exited $rc after $(( $(date +%s) - start ))s"
	runs+=("$cfg:$bdir:$rc")
done

compile_rc=0
bash "$HARNESS/compile-x86.sh" || compile_rc=$?
python3 "$HARNESS/check-results.py" "${runs[@]}" && exit "$compile_rc"
