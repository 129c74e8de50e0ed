#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: builds the kernel with our files and the VCM sample (a module)
# for 32-bit ARM, boots it in QEMU (virt, 2 CPUs, KUnit off) with an
# initramfs of Debian's busybox-static, and tells the sample's camera ->
# display pipeline step by step (harness/run-init.sh, in the guest).  Ends
# with "make run: pipeline ... OK", or "make run: FAILED: why" and 1.
# make shell (run.sh shell): the same with a shell on the console.
# ARCH=arm64 (run.sh story arm64): on QEMU's SMMUv3, with two edu devices.
source "$(dirname "$0")/common.sh"

mode=${1:-story}
arch=${2:-arm}
case "$mode:$arch" in
story:arm|shell:arm|story:arm64|shell:arm64) ;;
*) echo "usage: $0 [story|shell] [arm|arm64]" >&2; exit 2 ;;
esac
KUNIT_ARCH=$arch

fail() {
	echo "make run: FAILED: $*"
	exit 1
}

# Sets BUSYBOX to Debian's busybox-static for $1 (armhf, arm64), fetched
# once into the cache by an apt-get with a state of its own there.
ensure_busybox() {
	local deb_arch=$1 dir=$VCM_CACHE/busybox-$1 apt tmp

	BUSYBOX=$dir/bin/busybox
	[ -x "$BUSYBOX" ] && return 0
	log "fetching Debian's busybox-static for $deb_arch into $dir"
	tmp=$dir.tmp
	rm -rf "$dir" "$tmp"
	mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/deb"
	apt=(-o APT::Architecture="$deb_arch" -o APT::Architectures::="$deb_arch"
	     -o Dir::State::Lists="$tmp/apt/lists" -o Dir::Cache="$tmp/apt/cache"
	     -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
	# An index this does not need (another suite's) may fail to download:
	# whether busybox-static was found is what counts.
	apt-get "${apt[@]}" update >"$tmp/apt.log" 2>&1 || true
	if ! (cd "$tmp/deb" && apt-get "${apt[@]}" download "busybox-static:$deb_arch") \
		>>"$tmp/apt.log" 2>&1; then
		cat "$tmp/apt.log" >&2
		fail "cannot download busybox-static:$deb_arch with apt-get"
	fi
	dpkg-deb -x "$tmp"/deb/busybox-static_*_"$deb_arch".deb "$tmp/pkg"
	mkdir -p "$tmp/bin"
	mv "$tmp/pkg/bin/busybox" "$tmp/bin/busybox"
	rm -rf "$tmp/apt" "$tmp/pkg"
	mv "$tmp" "$dir"
}

case $arch in
arm64) ensure_packages gcc-aarch64-linux-gnu; deb_arch=arm64 bdir_name=arm64-run ;;
*) ensure_packages; deb_arch=armhf bdir_name=run ;;
esac
kernel_tree
overlay
ensure_busybox "$deb_arch"

bdir=$VCM_CACHE/build/$TREE_ID-$bdir_name
rundir=$bdir/vcm-run
mkdir -p "$rundir"
KUNIT_ARCH=$arch vcm_configs refcnt-y
cfgs=()
for f in "${CONFIG_FILES[@]}" "$HARNESS/configs/run.config"; do cfgs+=("--kunitconfig=$f"); done
log "building in $bdir (kunit.py output: $rundir/build.out)"
start=$(date +%s)
if ! kunit build --build_dir="$bdir" "${cfgs[@]}" >"$rundir/build.out" 2>&1; then
	tail -30 "$rundir/build.out"
	fail "the kernel did not build (see $rundir/build.out)"
fi
log "built in $(( $(date +%s) - start ))s"

cat >"$rundir/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /bin 0755 0 0
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 1777 0 0
dir /etc 0755 0 0
file /bin/busybox $BUSYBOX 0755 0 0
slink /bin/sh busybox 0777 0 0
file /init $HARNESS/run-init.sh 0755 0 0
slink /bin/vcm-story /init 0777 0 0
dir /lib 0755 0 0
dir /lib/modules 0755 0 0
file /lib/modules/vcm-pipeline.ko $bdir/samples/vcm/vcm-pipeline.ko 0644 0 0
LIST
"$bdir/usr/gen_init_cpio" "$rundir/initramfs.list" >"$rundir/initramfs.cpio"

if [ "$arch" = arm64 ]; then
	# The camera and the display: two edu devices behind the SMMUv3.
	qemu=(qemu-system-aarch64 -nodefaults -machine virt,iommu=smmuv3
	      -cpu max,pauth-impdef=on -m 1024 -smp 2 -device edu -device edu
	      -kernel "$bdir/arch/arm64/boot/Image")
else
	qemu=(qemu-system-arm -nodefaults -machine virt -m 1024 -smp 2
	      -kernel "$bdir/arch/arm/boot/zImage")
fi
qemu+=(-initrd "$rundir/initramfs.cpio" -no-reboot -nographic)

if [ "$mode" = shell ]; then
	log "booting in QEMU; leave the shell with poweroff, or quit QEMU with Ctrl-A x"
	exec "${qemu[@]}" -serial mon:stdio \
		-append "console=ttyAMA0 kunit.enable=0 panic=-1 quiet vcm_run.mode=shell"
fi

console=$rundir/console.log
klog=$rundir/kernel.log
log "booting in QEMU (console: $console, kernel log: $klog)"
# The story as it is told; the raw console is kept.
set +e
timeout 300 "${qemu[@]}" -serial stdio \
	-append "console=ttyAMA0 kunit.enable=0 panic=-1 vcm_run.mode=story" \
	</dev/null 2>&1 | tee "$console" | sed -u -n 's/\r$//; /^vcm-run: result: /d; s/^vcm-run: //p'
qemu_rc=${PIPESTATUS[0]}
set -e

tr -d '\r' <"$console" | sed -n '/^vcm-kmsg: begin$/,/^vcm-kmsg: end$/p' | sed '1d;$d' >"$klog"
result=$(tr -d '\r' <"$console" | sed -n 's/^vcm-run: result: //p' | tail -1)
if [ -z "$result" ]; then
	echo "console tail ($console):"
	tr -d '\r' <"$console" | tail -30
	fail "the story did not finish (QEMU exit $qemu_rc: 124 is the 300 s timeout)"
fi
[ "$result" = ok ] || fail "${result#FAILED: }"
[ -s "$klog" ] || fail "no kernel log after the story (see $console)"

# Any splat make test would fail on fails the run too.
splats=$(python3 "$HARNESS/check-results.py" --splats "$klog" || true)
if [ -n "$splats" ]; then
	echo "$splats" | head -10
	fail "the kernel log holds $(echo "$splats" | wc -l) warning line(s), first: $(echo "$splats" | head -1 | cut -d' ' -f2-)"
fi
steps=$(sed -n 's|^vcm-pipeline: step [0-9]*/\([0-9]*\) .*|\1|p' "$klog" | head -1)
pixels=$(sed -n 's/^vcm-pipeline: display: \(edu [^ ]* \)\{0,1\}read \([0-9]*\) pixels.*/\2/p' "$klog" | tail -1)
echo "make run: pipeline camera -> display OK: ${steps:-?} steps, ${pixels:-?} pixels read back intact, nothing left behind after the steps nor after rmmod half-way, no kmemleak suspect, no kernel warnings"
