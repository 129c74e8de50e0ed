#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Part of make test: builds VCM's objects, the SysMMU backend and the
# KUnit suites for x86_64 with COMPILE_TEST and W=1, in the tree test.sh
# laid out.  Fails on a build error, on any warning in a VCM file, and if
# a symbol of configs/x86_64-compile.config did not take.
source "$(dirname "$0")/common.sh"

kernel_tree
bdir=$VCM_CACHE/build/$TREE_ID-x86_64-compile
objs="mm/vcm.o mm/vcm-phys.o mm/vcm-mmu.o drivers/iommu/vcm-sysmmu.o
	lib/tests/vcm_kunit.o lib/tests/vcm_phys_kunit.o lib/tests/vcm_mmu_kunit.o
	lib/tests/vcm_share_kunit.o lib/tests/vcm_bench.o
	lib/tests/vcm_sysmmu_kunit.o"
frag=$HARNESS/configs/x86_64-compile.config
mkdir -p "$bdir"
out=$bdir/compile.out
kmake() { make -C "$KSRC" O="$bdir" ARCH=x86_64 -j"$JOBS" "$@"; }

start=$(date +%s)
rc=0
{
	KCONFIG_ALLCONFIG=$frag kmake allnoconfig &&
	kmake prepare &&
	# shellcheck disable=SC2086
	kmake W=1 $objs
} >"$out" 2>&1 || rc=$?

problems=0
grep -v '^#' "$frag" | grep . | while read -r want; do
	grep -qxF "$want" "$bdir/.config" || { echo "x86_64: $want did not take"; exit 1; }
done || problems=1
if grep -E '(mm/vcm|lib/tests/vcm|include/linux/vcm|drivers/iommu/vcm)[-_a-z0-9]*\.[ch]:[0-9]+:[0-9]+: (warning|error):' "$out"; then
	problems=1
fi
if [ "$rc" != 0 ]; then
	tail -20 "$out"
	problems=1
fi
if [ "$problems" = 0 ]; then
	echo "x86_64 COMPILE_TEST: $(echo $objs | wc -w) VCM objects built with W=1, no warnings ($(( $(date +%s) - start ))s)"
else
	echo "x86_64 COMPILE_TEST: FAILED (log: $out)"
	exit 1
fi
