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

# Builds objects $3.. in build/<tree>-$1 from allnoconfig plus configs/$1,
# and prints "$2: N VCM objects built with W=1, no warnings (Ns)".
compile_check() {
	local name=$1 label=$2 bdir=$VCM_CACHE/build/$TREE_ID-$1 start

	start=$(date +%s)

	shift 2
	if build_objects "$bdir" x86_64 "$HARNESS/configs/$name.config" "$bdir/compile.out" "$@"; then
		echo "$label: $# VCM objects built with W=1, no warnings ($(( $(date +%s) - start ))s)"
	else
		echo "$label: FAILED (log: $bdir/compile.out)"
		return 1
	fi
}

core=(mm/vcm.o mm/vcm-phys.o mm/vcm-mmu.o mm/vcm-dmabuf.o drivers/iommu/vcm-sysmmu.o)
rc=0
compile_check x86_64-compile "${prefix}x86_64 COMPILE_TEST" "${core[@]}" \
	drivers/iommu/vcm-iommu.o lib/tests/vcm_iommu_kunit.o lib/tests/vcm_iommu_fake_kunit.o \
	lib/tests/vcm_kunit.o lib/tests/vcm_phys_kunit.o lib/tests/vcm_mmu_kunit.o \
	lib/tests/vcm_share_kunit.o lib/tests/vcm_share_stress.o lib/tests/vcm_share_model.o \
	lib/tests/vcm_share_failures.o lib/tests/vcm_dmabuf_kunit.o lib/tests/vcm_bench.o \
	lib/tests/vcm_sysmmu_kunit.o samples/vcm/vcm-pipeline.o || rc=1
compile_check x86_64-nokunit "${prefix}x86_64 without KUnit" "${core[@]}" || rc=1
exit $rc
