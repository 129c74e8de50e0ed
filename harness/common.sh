# SPDX-License-Identifier: GPL-2.0
# Sourced by the harness scripts: the kernel trees and builds, packages,
# overlaying our kernel files, KUnit runs and builds.  Not a kernel file.

set -euo pipefail
export LC_ALL=C
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=$REPO/harness
VCM_CACHE=${VCM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vcm}
KERNEL_SERIES=${KERNEL_SERIES:-6.12}
CROSS_COMPILE=${CROSS_COMPILE:-arm-linux-gnueabihf-}
CROSS_COMPILE_ARM64=${CROSS_COMPILE_ARM64:-aarch64-linux-gnu-}
KUNIT_ARCH=arm	# the architecture kunit() builds for; test.sh also runs arm64, x86_64
JOBS=${JOBS:-$(nproc)}

# The top-level directories of this repository that hold kernel files.
KERNEL_DIRS="Documentation drivers include lib mm samples"

log() { printf '== %s\n' "$*" >&2; }

# kbuild cannot build in, or from, a path with spaces or colons.
check_path() {
	case "$2" in *[[:space:]:]*)
		echo "$1=$2: kbuild cannot use a path with spaces or colons" >&2; exit 1 ;;
	esac
}

# Installs, with apt-get, whichever of the packages a build needs, and of
# the packages named as arguments, is missing.
ensure_packages() {
	local pkgs="make gcc libc6-dev flex bison bc xz-utils python3 libssl-dev libelf-dev
		gcc-arm-linux-gnueabihf qemu-system-arm $*"
	local missing="" p

	[ -n "${KDIR:-}" ] || pkgs="$pkgs linux-source-$KERNEL_SERIES"
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	[ "$(id -u)" = 0 ] ||
		{ echo "missing packages:$missing (run as root, or install them)" >&2; exit 1; }
	log "installing:$missing"
	# Wait for another apt (unattended upgrades) rather than fail.
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y -q --no-install-recommends $missing >/dev/null
}

# Sets KSRC to the kernel tree, and TREE_ID to the name its build
# directories start with: $KDIR, or Debian's linux-source-$KERNEL_SERIES
# unpacked in the cache, unpacked again (and its builds dropped) when the
# package changes.  With a series as argument, Debian's source of that
# series, whatever KDIR says; each series has its own tree in the cache.
kernel_tree() {
	local series=${1:-$KERNEL_SERIES} version stamp

	check_path VCM_CACHE "$VCM_CACHE"
	if [ -z "${1:-}" ] && [ -n "${KDIR:-}" ]; then
		KSRC=$(cd "$KDIR" && pwd)
		check_path KDIR "$KSRC"
		[ -f "$KSRC/Makefile" ] && [ -d "$KSRC/mm" ] ||
			{ echo "KDIR=$KDIR is not a kernel tree" >&2; exit 1; }
		TREE_ID=kdir-$(printf '%s' "$KSRC" | md5sum | cut -c1-8)
		return
	fi
	KSRC=$VCM_CACHE/linux-source-$series
	TREE_ID=debian-$series
	stamp=$KSRC/.vcm-unpacked
	version=$(dpkg-query -W -f='${Version}' "linux-source-$series")
	if [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
		log "unpacking linux-source-$series $version into $VCM_CACHE"
		rm -rf "$KSRC" "$VCM_CACHE/build/$TREE_ID-"*
		mkdir -p "$VCM_CACHE"
		tar -xJf "/usr/src/linux-source-$series.tar.xz" -C "$VCM_CACHE"
		echo "$version" >"$stamp"
	fi
}

# Our kernel files: in a git checkout the tracked ones and the untracked
# ones git does not ignore (no editor backups, no build output).
repo_kernel_files() (
	dirs=()

	cd "$REPO"
	for d in $KERNEL_DIRS; do
		[ ! -d "$d" ] || dirs+=("$d")
	done
	[ ${#dirs[@]} -gt 0 ] || return 0
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -- "${dirs[@]}" |
			while read -r d; do [ ! -f "$d" ] || echo "$d"; done
	else
		find "${dirs[@]}" -type f
	fi | sort -u
)

# Lays our kernel files and harness/kernel-edits/ over $KSRC, idempotently.
# It never overwrites a file of the kernel's own, so the files it removes
# (ours that this repository no longer has) are always its own.
overlay() {
	local manifest=$KSRC/.vcm-files f

	touch "$manifest"
	repo_kernel_files >"$manifest.new"
	while read -r f; do
		if [ -e "$KSRC/$f" ] && ! grep -qxF "$f" "$manifest"; then
			echo "$KSRC/$f is the kernel's own file: not overwriting it" >&2
			exit 1
		fi
	done <"$manifest.new"
	# Only a file that differs is copied, so that make rebuilds only it.
	while read -r f; do
		cmp -s "$REPO/$f" "$KSRC/$f" || install -D -m 644 "$REPO/$f" "$KSRC/$f"
	done <"$manifest.new"
	comm -23 "$manifest" "$manifest.new" | while read -r f; do rm -f "$KSRC/$f"; done
	mv "$manifest.new" "$manifest"

	python3 "$HARNESS/kernel-edits.py" "$KSRC"
}

# Runs kunit.py from the kernel tree with the options every VCM run shares,
# for $KUNIT_ARCH: arm or arm64, cross-compiled, or x86_64, built natively.
kunit() {
	local cross=()

	case $KUNIT_ARCH in
	arm) cross=(--cross_compile="$CROSS_COMPILE") ;;
	arm64) cross=(--cross_compile="$CROSS_COMPILE_ARM64") ;;
	esac
	python3 "$KSRC/tools/testing/kunit/kunit.py" "$@" --arch="$KUNIT_ARCH" \
		"${cross[@]}" --jobs="$JOBS"
}

# The suites every ARM run of all our files must report.
SUITES=vcm_core,vcm_phys,vcm_mmu,vcm_o2o,vcm_sysmmu,vcm_share,vcm_dmabuf,vcm_iommu_fake

# Sets CONFIG_FILES to the kunitconfig fragments of configuration $1 (a
# file in harness/configs/) for $KUNIT_ARCH.
vcm_configs() {
	[ -f "$HARNESS/configs/$1.config" ] ||
		{ echo "no configuration $1 in harness/configs/" >&2; exit 1; }
	CONFIG_FILES=("$HARNESS/configs/"{base,"arch-$KUNIT_ARCH",debug,"$1"}.config)
}

# kunit_run LABEL BDIR SUITES FRAGMENT...: builds $KSRC for $KUNIT_ARCH in
# BDIR from the kunitconfig fragments, boots it in QEMU (2 CPUs) and runs
# the VCM suites; adds the run, which must report SUITES (comma-separated),
# to RUNS, which check-results.py judges.
RUNS=()
kunit_run() {
	local label=$1 bdir=$2 suites=$3 args='panic=-1 earlycon' qemu='-smp 2'
	local f start rc=0 cfgs=()

	shift 3
	for f in "$@"; do cfgs+=("--kunitconfig=$f"); done
	case $KUNIT_ARCH in
	arm64)
		# Two edu devices behind the SMMUv3 for vcm_iommu's real DMA.
		qemu+=' -machine iommu=smmuv3 -device edu -device edu'
		suites+=,vcm_iommu ;;
	x86_64)
		# Two edu devices behind q35's VT-d for vcm_iommu's real DMA.
		qemu+=' -machine q35 -device intel-iommu,intremap=off -device edu -device edu'
		suites+=,vcm_iommu
		# The TSC's refinement prints among the KTAP lines, and
		# QEMU's TSC is no clock to trust anyway.
		args+=' intel_iommu=on tsc=unstable' ;;
	esac
	mkdir -p "$bdir" && rm -f "$bdir/test.log"
	log "$label: build and run in $bdir (kunit.py output: $bdir/vcm-kunit.out)"
	start=$(date +%s)
	kunit run --build_dir="$bdir" "${cfgs[@]}" --qemu_args="$qemu" \
		--kernel_args="$args" --timeout="${VCM_TIMEOUT:-900}" \
		'vcm*' >"$bdir/vcm-kunit.out" 2>&1 || rc=$?
	grep -E '^\[[0-9:]+\] (Elapsed|Testing complete|=+ |\[(PASSED|FAILED|SKIPPED|CRASHED)\])' \
		"$bdir/vcm-kunit.out" || true
	log "$label: kunit.py exited $rc after $(( $(date +%s) - start ))s"
	RUNS+=("$label:$bdir:$rc:$suites")
}

# The compiler's and sparse's warnings and errors in VCM files, in log $1.
vcm_warnings() {
	grep -E '(mm/vcm|lib/tests/vcm|include/linux/vcm|drivers/iommu/vcm|samples/vcm/)[-_a-z0-9]*\.[ch]:[0-9]+(:[0-9]+)?: (warning|error)' \
		"$1" | sort -u || true
}

# build_objects BDIR ARCH FRAGMENT LOG OBJECT...: builds the objects of
# $KSRC for ARCH in BDIR from allnoconfig plus FRAGMENT, with W=1 and
# MAKE_ARGS, into LOG.  Prints what went wrong (a symbol of FRAGMENT that
# did not take, even as m; a build error; a warning in a VCM file) and
# fails if anything did.
MAKE_ARGS=()
build_objects() {
	local bdir=$1 arch=$2 frag=$3 out=$4 cross=() want rc=0

	shift 4
	[ "$arch" != arm ] || cross=(CROSS_COMPILE="$CROSS_COMPILE")
	mkdir -p "$bdir"
	kmake() { make -C "$KSRC" O="$bdir" ARCH="$arch" "${cross[@]}" -j"$JOBS" "$@"; }
	{
		KCONFIG_ALLCONFIG=$frag kmake allnoconfig &&
		kmake -k W=1 "${MAKE_ARGS[@]}" "$@"
	} >"$out" 2>&1 || rc=1
	[ "$rc" = 0 ] || { grep -E ': (fatal )?error:|\*\*\*' "$out" | sort -u | head -8 | sed 's/^/    /' || true; }
	grep '^CONFIG_' "$frag" | while read -r want; do
		grep -qxF -e "$want" -e "${want%=y}=m" "$bdir/.config" ||
			echo "    $want did not take"
	done | grep . && rc=1
	vcm_warnings "$out" | grep ': warning' | sed 's/^/    /' | grep . && rc=1
	return "$rc"
}
