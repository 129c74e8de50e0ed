#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: builds the kernel with our files and runs the VCM KUnit suites
# under QEMU (2 CPUs, the debug options on): on 32-bit ARM once per
# configuration, on arm64 (an SMMUv3 and two edu DMA devices) and x86_64
# (VT-d and edu; 64-bit dma_addr_t and phys_addr_t); builds VCM for x86_64
# with COMPILE_TEST; then ARM, arm64 and x86_64 again on Debian's 6.1.
# First check-results.py's own test (test-judge.py) must pass; ends with
# "N passed, N failed, N skipped" over all the runs.
source "$(dirname "$0")/common.sh"

CONFIGS=${VCM_CONFIGS-refcnt-y refcnt-n}
ARM64_CONFIGS=${VCM_ARM64_CONFIGS-refcnt-y}
X86_CONFIGS=${VCM_X86_CONFIGS-refcnt-y}
OLD_SERIES=${VCM_OLD_SERIES:-6.1}
# On the old series one ARM configuration (refcnt-n's code is the same).
OLD_CONFIGS=${VCM_OLD_CONFIGS-refcnt-y}
OLD_ARM64_CONFIGS=${VCM_OLD_ARM64_CONFIGS-refcnt-y}
# The main tree already is Debian's old series: nothing to run twice.
[ -n "${KDIR:-}" ] || [ "$OLD_SERIES" != "$KERNEL_SERIES" ] || OLD_CONFIGS= OLD_ARM64_CONFIGS=
[ -n "${CONFIGS// /}${ARM64_CONFIGS// /}${X86_CONFIGS// /}${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] ||
	{ echo "the VCM_*CONFIGS variables name no configuration" >&2; exit 1; }
python3 "$HARNESS/test-judge.py"

extra=()
[ -z "${ARM64_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] || extra+=(gcc-aarch64-linux-gnu)
[ -z "${X86_CONFIGS// /}" ] || extra+=(qemu-system-x86)
[ -z "${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] || extra+=("linux-source-$OLD_SERIES")
ensure_packages "${extra[@]}"

# run_config ARCH LABEL CFG PREFIX: the suites, in build/<tree>-PREFIXCFG.
run_config() {
	KUNIT_ARCH=$1 vcm_configs "$3"
	KUNIT_ARCH=$1 kunit_run "$2" "$VCM_CACHE/build/$TREE_ID-$4$3" "$SUITES" "${CONFIG_FILES[@]}"
}

# compile_check NAME LABEL OBJECT...: the objects built for x86_64 in
# build/<tree>-NAME from allnoconfig plus configs/NAME.
compile_check() {
	local bdir=$VCM_CACHE/build/$TREE_ID-$1 label=$2 start

	start=$(date +%s)
	if build_objects "$bdir" x86_64 "$HARNESS/configs/$1.config" "$bdir/compile.out" "${@:3}"; then
		echo "$label: $(($# - 2)) VCM objects built with W=1, no warnings ($(( $(date +%s) - start ))s)"
	else
		echo "$label: FAILED (log: $bdir/compile.out)"
		compile_rc=1
	fi
}

# The x86_64 builds (64-bit dma_addr_t and phys_addr_t): everything with
# COMPILE_TEST, and VCM alone without KUnit, as a kernel that ships it.
compile_x86() {
	local core=(mm/vcm.o mm/vcm-phys.o mm/vcm-mmu.o mm/vcm-dmabuf.o mm/vcm-o2o.o mm/vcm-vmm.o
		    drivers/iommu/vcm-sysmmu.o)

	compile_check x86_64-compile "$1x86_64 COMPILE_TEST" "${core[@]}" \
		drivers/iommu/vcm-iommu.o lib/tests/vcm_iommu_kunit.o lib/tests/vcm_iommu_fake_kunit.o \
		lib/tests/vcm_kunit.o lib/tests/vcm_phys_kunit.o lib/tests/vcm_mmu_kunit.o \
		lib/tests/vcm_share_kunit.o lib/tests/vcm_share_stress.o lib/tests/vcm_share_model.o \
		lib/tests/vcm_share_failures.o lib/tests/vcm_dmabuf_kunit.o lib/tests/vcm_bench.o \
		lib/tests/vcm_sysmmu_kunit.o lib/tests/vcm_o2o_kunit.o samples/vcm/vcm-pipeline.o
	compile_check x86_64-nokunit "$1x86_64 without KUnit" "${core[@]}"
}

compile_rc=0
kernel_tree
overlay
for cfg in $CONFIGS; do
	run_config arm "$cfg" "$cfg" ""
done
for cfg in $ARM64_CONFIGS; do
	run_config arm64 "arm64 $cfg" "$cfg" arm64-
done
for cfg in $X86_CONFIGS; do
	run_config x86_64 "x86_64 $cfg" "$cfg" x86_64-
done

compile_x86 ""

if [ -n "${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ]; then
	kernel_tree "$OLD_SERIES"
	overlay
	for cfg in $OLD_CONFIGS; do
		run_config arm "$OLD_SERIES $cfg" "$cfg" ""
	done
	for cfg in $OLD_ARM64_CONFIGS; do
		run_config arm64 "$OLD_SERIES arm64 $cfg" "$cfg" arm64-
	done
	compile_x86 "$OLD_SERIES "
fi

python3 "$HARNESS/check-results.py" "${RUNS[@]}" && exit "$compile_rc"
