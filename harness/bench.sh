#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: builds the kernel with the vcm_bench suite, without the debug
# options, boots it in QEMU (virt, 2 CPUs, 512 MiB) and prints the table
# of VCM against its peers measured in that boot; then on arm64 with an
# edu device behind QEMU's SMMUv3, VCM on the IOMMU API against
# iommu_map_sg() and dma-iommu, with strict and with lazy invalidation
# (VCM_BENCH_ARM64= leaves it out).  The results are also written to
# $VCM_CACHE/build/<tree>-bench/vcm-bench.json.  Fails only if it could
# not run.
source "$(dirname "$0")/common.sh"

ARM64=${VCM_BENCH_ARM64-1}
ensure_packages ${ARM64:+gcc-aarch64-linux-gnu}
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
logs=("$bdir/test.log")

if [ -n "$ARM64" ]; then
	abdir=$VCM_CACHE/build/$TREE_ID-arm64-bench
	mkdir -p "$abdir"
	for mode in strict lazy; do
		rm -f "$abdir/test.log" "$abdir/test-$mode.log"
		log "bench: arm64, iommu.strict=$([ $mode = strict ] && echo 1 || echo 0), in $abdir (kunit.py output: $abdir/vcm-kunit-$mode.out)"
		start=$(date +%s)
		rc=0
		KUNIT_ARCH=arm64 kunit run --build_dir="$abdir" \
			--kunitconfig="$HARNESS/configs/base.config" \
			--kunitconfig="$HARNESS/configs/arch-arm64.config" \
			--kunitconfig="$HARNESS/configs/bench.config" \
			--kunitconfig="$HARNESS/configs/bench-arm64.config" \
			--qemu_args='-smp 2 -m 512 -machine iommu=smmuv3 -device edu' \
			--kernel_args="panic=-1 iommu.strict=$([ $mode = strict ] && echo 1 || echo 0)" \
			--timeout="${VCM_TIMEOUT:-900}" 'vcm_bench.vcm_bench_iommu' \
			>"$abdir/vcm-kunit-$mode.out" 2>&1 || rc=$?
		log "bench: kunit.py exited $rc after $(( $(date +%s) - start ))s"
		[ ! -f "$abdir/test.log" ] || mv "$abdir/test.log" "$abdir/test-$mode.log"
		logs+=("$abdir/test-$mode.log")
	done
fi
python3 "$HARNESS/bench-table.py" "$bdir/vcm-bench.json" "${logs[@]}"
