#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: builds the kernel with the vcm_bench suite, without the debug
# options, boots it in QEMU (virt, 2 CPUs, 512 MiB) $VCM_BENCH_BOOTS times
# (3), again with 4 vCPUs for the 4-CPU rows, and prints the table of VCM
# against its peers measured in the same boot (medians over the boots);
# then the longest irqs-off section of a bind, in a kernel of its own with
# the irqsoff tracer; then on arm64 with an edu device behind QEMU's
# SMMUv3, VCM on the IOMMU API against iommu_map_sg() and dma-iommu, strict
# and lazy (VCM_BENCH_ARM64= leaves it out).  Writes vcm-bench.json and
# the growth curves, vcm-bench.png, to $VCM_CACHE/build/<tree>-bench/.
# Fails only if it could not run.
source "$(dirname "$0")/common.sh"

ARM64=${VCM_BENCH_ARM64-1}
BOOTS=${VCM_BENCH_BOOTS:-3}
[[ $BOOTS =~ ^[1-9][0-9]*$ ]] ||
	{ echo "VCM_BENCH_BOOTS=$BOOTS: give a number of boots, 1 or more" >&2; exit 1; }
ensure_packages python3-matplotlib ${ARM64:+gcc-aarch64-linux-gnu}
kernel_tree
overlay

# bench DIR NAME SMP FILTER KERNEL_ARGS QEMU_ARGS CONFIG...: one boot, its
# kernel log kept as DIR/test-NAME.log.
bench() {
	local dir=$1 name=$2 smp=$3 filter=$4 args=$5 qemu=$6 rc=0 start=$SECONDS c cfgs=()

	shift 6
	for c; do cfgs+=(--kunitconfig="$HARNESS/configs/$c.config"); done
	mkdir -p "$dir"
	rm -f "$dir/test.log" "$dir/test-$name.log"
	log "bench: $name, in $dir (kunit.py output: $dir/vcm-kunit-$name.out)"
	kunit run --build_dir="$dir" "${cfgs[@]}" --qemu_args="-smp $smp -m 512 $qemu" \
		--kernel_args="panic=-1 $args" --timeout="${VCM_TIMEOUT:-900}" "$filter" \
		>"$dir/vcm-kunit-$name.out" 2>&1 || rc=$?
	log "bench: kunit.py exited $rc after $((SECONDS - start))s"
	# A boot that left no log is left out of the table, which says so.
	if [ -f "$dir/test.log" ]; then
		mv "$dir/test.log" "$dir/test-$name.log"
		logs+=("$dir/test-$name.log")
	else
		log "bench: $name left no kernel log; its rows are missing from the table"
	fi
}

bdir=$VCM_CACHE/build/$TREE_ID-bench logs=()
rm -f "$bdir/vcm-bench.json" "$bdir/vcm-bench.png"
for boot in $(seq "$BOOTS"); do
	bench "$bdir" "smp2-$boot" 2 vcm_bench '' '' base arch-arm bench
done
bench "$bdir" smp4 4 vcm_bench.vcm_bench_cpus '' '' base arch-arm bench
bench "$VCM_CACHE/build/$TREE_ID-bench-irqsoff" irqsoff 2 vcm_bench.vcm_bench_irqsoff '' '' \
	base arch-arm bench bench-irqsoff
for strict in ${ARM64:+1 0}; do
	KUNIT_ARCH=arm64 bench "$VCM_CACHE/build/$TREE_ID-arm64-bench" \
		"$([ "$strict" = 1 ] && echo strict || echo lazy)" 2 vcm_bench.vcm_bench_iommu \
		"iommu.strict=$strict" '-machine iommu=smmuv3 -device edu' \
		base arch-arm64 bench bench-arm64
done
"$(command -v /usr/bin/python3 || command -v python3)" "$HARNESS/bench-table.py" "$bdir/vcm-bench.json" "${logs[@]}"
