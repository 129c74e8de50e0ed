#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Part of make test: builds VCM's objects, the SysMMU backend and the
# KUnit suites for x86_64 with COMPILE_TEST and W=1, in the tree test.sh
# laid out (with a series as argument, in Debian's tree of that series,
# and the lines it prints start with the series); then VCM's objects alone
# without KUnit.  Fails on a build error, on any warning in a VCM file,
# and if a symbol of the configuration fragment did not take.
source "$(dirname "$0")/common.sh"

kernel_tree ${1:+"$1"}
prefix=${1:+"$1 "}

# Builds $3 (objects) in build/<tree>-$1 from allnoconfig plus configs/$1,
# and prints "$2: N VCM objects built with W=1, no warnings (Ns)".
compile_check() {
	local name=$1 label=$2 objs=$3
	local bdir=$VCM_CACHE/build/$TREE_ID-$name frag=$HARNESS/configs/$name.config
	local out start rc=0 problems=0

	mkdir -p "$bdir"
	out=$bdir/compile.out
	kmake() { make -C "$KSRC" O="$bdir" ARCH=x86_64 -j"$JOBS" "$@"; }
	start=$(date +%s)
	{
		KCONFIG_ALLCONFIG=$frag kmake allnoconfig &&
		kmake prepare &&
		# shellcheck disable=SC2086
		kmake W=1 $objs
	} >"$out" 2>&1 || rc=$?

	grep -v '^#' "$frag" | grep . | while read -r want; do
		grep -qxF "$want" "$bdir/.config" || { echo "$label: $want did not take"; exit 1; }
	done || problems=1
	if grep -E '(mm/vcm|lib/tests/vcm|include/linux/vcm|drivers/iommu/vcm|samples/vcm/)[-_a-z0-9]*\.[ch]:[0-9]+:[0-9]+: (warning|error):' "$out"; then
		problems=1
	fi
	if [ "$rc" != 0 ]; then
		tail -20 "$out"
		problems=1
	fi
	if [ "$problems" = 0 ]; then
		# shellcheck disable=SC2086
		echo "$label: $(echo $objs | wc -w) VCM objects built with W=1, no warnings ($(( $(date +%s) - start ))s)"
	else
		echo "$label: FAILED (log: $out)"
		return 1
	fi
}

core="mm/vcm.o mm/vcm-phys.o mm/vcm-mmu.o mm/vcm-dmabuf.o drivers/iommu/vcm-sysmmu.o"
rc=0
compile_check x86_64-compile "${prefix}x86_64 COMPILE_TEST" "$core
	drivers/iommu/vcm-iommu.o lib/tests/vcm_iommu_kunit.o lib/tests/vcm_iommu_fake_kunit.o
	lib/tests/vcm_kunit.o lib/tests/vcm_phys_kunit.o lib/tests/vcm_mmu_kunit.o
	lib/tests/vcm_share_kunit.o lib/tests/vcm_share_stress.o lib/tests/vcm_share_model.o
	lib/tests/vcm_share_failures.o lib/tests/vcm_dmabuf_kunit.o lib/tests/vcm_bench.o
	lib/tests/vcm_sysmmu_kunit.o samples/vcm/vcm-pipeline.o" || rc=1
compile_check x86_64-nokunit "${prefix}x86_64 without KUnit" "$core" || rc=1
exit $rc
