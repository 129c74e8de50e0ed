# SPDX-License-Identifier: GPL-2.0
# Sourced by the harness scripts: where the kernel and the builds live, the
# packages a build needs, and laying this repository's kernel files over a
# kernel tree.  Nothing here goes into the kernel.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=$REPO/harness
VCM_CACHE=${VCM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vcm}
KERNEL_SERIES=${KERNEL_SERIES:-6.12}
CROSS_COMPILE=${CROSS_COMPILE:-arm-linux-gnueabihf-}
JOBS=${JOBS:-$(nproc)}

# The top-level directories of this repository that hold kernel files.
KERNEL_DIRS="Documentation drivers include lib mm"

log() { printf '== %s\n' "$*" >&2; }

# Installs, with apt-get, whichever of the packages a build needs is missing.
ensure_packages() {
	local pkgs="make gcc libc6-dev flex bison bc xz-utils python3 libssl-dev libelf-dev gcc-arm-linux-gnueabihf qemu-system-arm"
	local missing="" p

	[ -n "${KDIR:-}" ] || pkgs="$pkgs linux-source-$KERNEL_SERIES"
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root, or install them)" >&2
		exit 1
	fi
	log "installing:$missing"
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
}

# Sets KSRC to the kernel tree: $KDIR, or Debian's source unpacked in the cache.
kernel_tree() {
	local tarball stamp

	if [ -n "${KDIR:-}" ]; then
		KSRC=$(cd "$KDIR" && pwd)
		[ -f "$KSRC/Makefile" ] && [ -d "$KSRC/mm" ] ||
			{ echo "KDIR=$KDIR is not a kernel tree" >&2; exit 1; }
		TREE_ID=kdir-$(printf '%s' "$KSRC" | md5sum | cut -c1-8)
		return
	fi
	KSRC=$VCM_CACHE/linux-source-$KERNEL_SERIES
	TREE_ID=debian-$KERNEL_SERIES
	tarball=/usr/src/linux-source-$KERNEL_SERIES.tar.xz
	stamp=$KSRC/.vcm-unpacked
	if [ ! -f "$stamp" ] || [ "$tarball" -nt "$stamp" ]; then
		log "unpacking $tarball into $VCM_CACHE"
		rm -rf "$KSRC"
		mkdir -p "$VCM_CACHE"
		tar -xJf "$tarball" -C "$VCM_CACHE"
		touch "$stamp"
	fi
}

# Copies a file only when it differs, so that make rebuilds only what changed.
install_file() {
	cmp -s "$1" "$2" && return 0
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
}

# Lays our kernel files and the edits to existing kernel files over $KSRC.
# Idempotent: running it again changes nothing unless a file of ours did.
overlay() {
	local manifest=$KSRC/.vcm-files f edits=$HARNESS/kernel-edits

	(cd "$REPO" && for f in $KERNEL_DIRS; do [ ! -d "$f" ] || find "$f" -type f; done | sort) \
		>"$manifest.new"
	while read -r f; do
		install_file "$REPO/$f" "$KSRC/$f"
	done <"$manifest.new"
	# Files this repository no longer has leave the tree too.
	if [ -f "$manifest" ]; then
		comm -23 "$manifest" "$manifest.new" | while read -r f; do rm -f "$KSRC/$f"; done
	fi
	mv "$manifest.new" "$manifest"

	python3 "$HARNESS/edit-kernel-file.py" "$KSRC/mm/Kconfig" "$edits/mm-Kconfig" --before-last endmenu
	python3 "$HARNESS/edit-kernel-file.py" "$KSRC/mm/Makefile" "$edits/mm-Makefile"
	# lib/tests/ is new in 6.15; older kernels get its Makefile and the link.
	python3 "$HARNESS/edit-kernel-file.py" "$KSRC/lib/tests/Makefile" "$edits/lib-tests-Makefile"
	grep -Eq '^obj-y[[:space:]]*\+=.*[[:space:]]tests/' "$KSRC/lib/Makefile" ||
		python3 "$HARNESS/edit-kernel-file.py" "$KSRC/lib/Makefile" "$edits/lib-Makefile"
}

# Runs kunit.py from the kernel tree with the options every VCM run shares.
kunit() {
	python3 "$KSRC/tools/testing/kunit/kunit.py" "$@" --arch=arm \
		--cross_compile="$CROSS_COMPILE" --jobs="$JOBS"
}

# The kunitconfig fragments of one configuration, as kunit.py options.
kunitconfigs() {
	local f
	for f in base debug "$1"; do
		printf -- '--kunitconfig=%s\n' "$HARNESS/configs/$f.config"
	done
}
