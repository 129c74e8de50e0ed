#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: build the kernel with our files for 32-bit ARM and run the VCM
# KUnit suites under QEMU (virt, 2 CPUs), once per configuration, with the
# debug options on; then the same on arm64 (virt with an SMMUv3 and two
# edu DMA devices, for the vcm_iommu suite's real DMA) and on x86_64
# (QEMU's PC, 2 CPUs; 64-bit dma_addr_t and phys_addr_t); then builds VCM's objects for x86_64 with
# COMPILE_TEST; then an ARM and the arm64 run and the x86_64 builds again
# on Debian's Linux 6.1, in its own tree.  Ends with "N passed, N failed, N skipped"
# over all the runs.  Before anything, check-results.py's own regression
# test (test-judge.py) must pass: every run is judged by it.
source "$(dirname "$0")/common.sh"

CONFIGS=${VCM_CONFIGS-refcnt-y refcnt-n}
ARM64_CONFIGS=${VCM_ARM64_CONFIGS-refcnt-y}
X86_CONFIGS=${VCM_X86_CONFIGS-refcnt-y}
OLD_SERIES=${VCM_OLD_SERIES:-6.1}
# On the old series one ARM configuration and arm64: refcnt-n's code is
# the same on both series, and a fresh make test stays within an hour.
OLD_CONFIGS=${VCM_OLD_CONFIGS-refcnt-y}
OLD_ARM64_CONFIGS=${VCM_OLD_ARM64_CONFIGS-refcnt-y}
# The main tree already is Debian's old series: nothing to run twice.
[ -n "${KDIR:-}" ] || [ "$OLD_SERIES" != "$KERNEL_SERIES" ] || OLD_CONFIGS= OLD_ARM64_CONFIGS=
[ -n "${CONFIGS// /}${ARM64_CONFIGS// /}${X86_CONFIGS// /}${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] ||
	{ echo "the VCM_*CONFIGS variables name no configuration" >&2; exit 1; }
TIMEOUT=${VCM_TIMEOUT:-900}	# a boot ends in seconds; this catches a hang
# The suites every run must report.
SUITES=vcm_core,vcm_phys,vcm_mmu,vcm_sysmmu,vcm_share,vcm_dmabuf,vcm_iommu_fake

python3 "$HARNESS/test-judge.py"

extra=()
[ -z "${ARM64_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] || extra+=(gcc-aarch64-linux-gnu)
[ -z "${X86_CONFIGS// /}" ] || extra+=(qemu-system-x86)
[ -z "${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ] || extra+=("linux-source-$OLD_SERIES")
ensure_packages "${extra[@]}"

# Runs the suites of configuration $2 for $KUNIT_ARCH in the tree
# kernel_tree chose, in build/<tree>-$3$2; adds the run, labelled $1, to
# those check-results.py judges.
runs=()
kunit_run() {
	local label=$1 cfg=$2 bdir=$VCM_CACHE/build/$TREE_ID-$3$2 start rc=0
	local args='panic=-1 earlycon' qemu='-smp 2' suites=$SUITES

	case $KUNIT_ARCH in
	arm64)
		# Two edu devices behind the SMMUv3 for vcm_iommu's real DMA.
		qemu+=' -machine iommu=smmuv3 -device edu -device edu'
		suites+=,vcm_iommu ;;
	x86_64)
		# Two edu devices behind q35's VT-d for vcm_iommu's real DMA.
		qemu+=' -machine q35 -device intel-iommu,intremap=off -device edu -device edu'
		args+=' intel_iommu=on'
		suites+=,vcm_iommu
		# The TSC's refined calibration prints, a second into the
		# tests, two lines among the KTAP ones; QEMU's TSC is no
		# clock to trust anyway.
		args+=' tsc=unstable' ;;
	esac
	mkdir -p "$bdir"
	rm -f "$bdir/test.log"
	kunitconfigs "$cfg"
	log "$label: build and run in $bdir (kunit.py output: $bdir/vcm-kunit.out)"
	start=$(date +%s)
	kunit run --build_dir="$bdir" "${KUNITCONFIGS[@]}" \
		--qemu_args="$qemu" --kernel_args="$args" --timeout="$TIMEOUT" \
		'vcm*' >"$bdir/vcm-kunit.out" 2>&1 || rc=$?
	grep -E '^\[[0-9:]+\] (Elapsed|Testing complete|=+ |\[(PASSED|FAILED|SKIPPED|CRASHED)\])' \
		"$bdir/vcm-kunit.out" || true
	log "$label: kunit.py exited $rc after $(( $(date +%s) - start ))s"
	runs+=("$label:$bdir:$rc:$suites")
}

kernel_tree
overlay
for cfg in $CONFIGS; do
	KUNIT_ARCH=arm kunit_run "$cfg" "$cfg" ""
done
for cfg in $ARM64_CONFIGS; do
	KUNIT_ARCH=arm64 kunit_run "arm64 $cfg" "$cfg" arm64-
done
for cfg in $X86_CONFIGS; do
	KUNIT_ARCH=x86_64 kunit_run "x86_64 $cfg" "$cfg" x86_64-
done

compile_rc=0
bash "$HARNESS/compile-x86.sh" || compile_rc=$?

if [ -n "${OLD_CONFIGS// /}${OLD_ARM64_CONFIGS// /}" ]; then
	kernel_tree "$OLD_SERIES"
	overlay
	for cfg in $OLD_CONFIGS; do
		KUNIT_ARCH=arm kunit_run "$OLD_SERIES $cfg" "$cfg" ""
	done
	for cfg in $OLD_ARM64_CONFIGS; do
		KUNIT_ARCH=arm64 kunit_run "$OLD_SERIES arm64 $cfg" "$cfg" arm64-
	done
	bash "$HARNESS/compile-x86.sh" "$OLD_SERIES" || compile_rc=$?
fi

python3 "$HARNESS/check-results.py" "${runs[@]}" && exit "$compile_rc"
