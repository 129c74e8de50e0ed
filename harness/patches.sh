#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make patches: turns this repository's kernel files into an upstream-style
# series against Debian's linux-source-6.12 (git format-patch, with a cover
# letter), one patch per step of harness/series/NN-*.txt, and the same for
# 6.1 (where only the MAINTAINERS hunks differ), and checks them:
# git am on pristine 6.12 and 6.1 trees, an ARM build of every step on
# 6.12 and of the whole series on 6.1 (W=1), checkpatch --strict, and
# sparse.  Prints the series and one line per check; exits non-zero if a
# check fails.  KDIR and KERNEL_SERIES do not apply: the trees are always
# Debian's, unpacked under $VCM_CACHE/patches/, apart from make test's.
source "$(dirname "$0")/common.sh"

unset KDIR
BASE=6.12	# the series is made against this tree
OTHER=6.1	# and must apply and build here too
PCACHE=$VCM_CACHE/patches
OUT=$PCACHE/series
WORK=$PCACHE/work
LOGS=$PCACHE/logs
STAGES=$WORK/stages
SERIES=${VCM_SERIES:-$HARNESS/series}	# another split, to try one
START=$(date +%s)

KERNEL_SERIES=$BASE ensure_packages "linux-source-$OTHER" git perl sparse unifdef
check_path VCM_CACHE "$VCM_CACHE"
mkdir -p "$PCACHE" "$LOGS"
rm -f "$LOGS"/*.log

# Sets TREE to Debian's linux-source-$1, unpacked under $PCACHE by
# kernel_tree (which unpacks it again, and drops its builds, when the
# package changes), and puts it back as unpacked: a scratch git repository
# tracks the files the series touches, and its tag "pristine" is the tree
# as unpacked.
pristine_tree() {
	# kernel_tree reads these and sets KSRC and TREE_ID.
	# shellcheck disable=SC2034
	local KERNEL_SERIES=$1 VCM_CACHE=$PCACHE KSRC TREE_ID

	kernel_tree
	TREE=$KSRC
	if [ -d "$TREE/.git" ]; then
		git -C "$TREE" am --abort >/dev/null 2>&1 || true
		if git -C "$TREE" rev-parse -q --verify refs/tags/pristine >/dev/null; then
			git -C "$TREE" reset -q --hard pristine
		fi
		rm -rf "$TREE/.git"
	fi
}

# Makes $1 a git repository whose first commit, tagged "pristine", holds
# the files listed in $2 that exist there.
scratch_repo() {
	local dir=$1 list=$2

	git -C "$dir" init -q
	git -C "$dir" config user.name "$NAME"
	git -C "$dir" config user.email "$EMAIL"
	git -C "$dir" config status.showUntrackedFiles no
	(cd "$dir" && while read -r f; do [ ! -f "$f" ] || echo "$f"; done <"$list" |
		git add -f --pathspec-from-file=-)
	GIT_AUTHOR_DATE=$DATE GIT_COMMITTER_DATE=$DATE \
		git -C "$dir" commit -q -m "pristine linux-source-$3"
	git -C "$dir" tag pristine
}

# The pristine files a patch may change: those in the directories of our
# files and in every directory above them (their Kconfig, Makefile,
# MAINTAINERS), and the files named as arguments.
pristine_subset() {
	local f d

	{
		repo_kernel_files | while read -r f; do
			d=$(dirname "$f")
			while [ "$d" != . ]; do
				echo "$d"
				d=$(dirname "$d")
			done
			echo .
		done | sort -u | while read -r d; do
			if [ -d "$TREE/$d" ]; then
				find "$TREE/$d" -maxdepth 1 -type f -printf "$d/%f\n"
			fi
		done
		printf '%s\n' "$@"
	} | sed 's|^\./||' | grep -v '^\.vcm-' | grep . | sort -u
}

# Makes $1 a scratch repository (scratch_repo) of the files of the series'
# paths that tree $2 of linux-source-$3 has.
series_repo() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$2" && while read -r f; do [ ! -f "$f" ] || echo "$f"; done \
		<"$STAGES/paths" | xargs -r -d '\n' cp --parents -t "$1")
	scratch_repo "$1" "$STAGES/paths" "$3"
}

# Writes repository $1's commits since "pristine" as a series into $2, with
# the cover letter filled in, and sets SERIES_PATCHES to its patches.
format_series() {
	local p

	rm -rf "$2"
	git -C "$1" format-patch -q --cover-letter -o "$2" pristine..HEAD
	python3 "$HARNESS/series.py" cover --letter "$2"/0000-cover-letter.patch \
		--subject "$STAGES/cover-subject" --body "$STAGES/cover-body"
	SERIES_PATCHES=()
	for p in "$2"/[0-9][0-9][0-9][0-9]-*.patch; do
		[ "${p##*/}" = 0000-cover-letter.patch ] || SERIES_PATCHES+=("$p")
	done
}

# Copies the files listed in $2 from $TREE into a new directory $1.
copy_files() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$TREE" && xargs -d '\n' cp --parents -t "$1") <"$2"
}

# The identity and date of the patches: this repository's user and its
# last commit, so that the same repository gives the same series.
NAME=$(git -C "$REPO" config user.name 2>/dev/null || echo "VCM developers")
EMAIL=$(git -C "$REPO" config user.email 2>/dev/null || echo "vcm@example.org")
DATE=$(git -C "$REPO" log -1 --format=%cD 2>/dev/null || date -R)

pristine_tree "$OTHER"
TREE_OTHER=$TREE
pristine_tree "$BASE"
TREE_BASE=$TREE

# 1. What overlay makes of the pristine files: our files, and our blocks
# in the kernel's Kconfig and Makefiles.  The files it edits are those of
# the directories of our files and above, and the "$KSRC/..." files that
# common.sh names; a file it creates that the kernel has after all is
# added too, and overlay runs again.
log "laying our files over the pristine files of linux-source-$BASE"
rm -rf "$WORK"
mkdir -p "$WORK"
# shellcheck disable=SC2016
mapfile -t extra < <(grep -o '"\$KSRC/[A-Za-z0-9_./-]*"' "$HARNESS/common.sh" |
	sed -e 's|^"\$KSRC/||' -e 's|"$||' | sort -u |
	while read -r f; do [ ! -f "$TREE_BASE/$f" ] || echo "$f"; done)
for round in 1 2 3; do
	pristine_subset "${extra[@]}" >"$WORK/subset"
	copy_files "$WORK/pristine" "$WORK/subset"
	copy_files "$WORK/final" "$WORK/subset"
	(KSRC=$WORK/final; overlay)
	more=$(cd "$WORK/final" && find . -type f ! -name .vcm-files | sed 's|^\./||' |
		while read -r f; do
			[ -e "$WORK/pristine/$f" ] || grep -qxF "$f" .vcm-files ||
				[ ! -e "$TREE_BASE/$f" ] || echo "$f"
		done)
	[ -n "$more" ] || break
	[ "$round" != 3 ] || { echo "overlay keeps creating kernel files: $more" >&2; exit 1; }
	# shellcheck disable=SC2206
	extra+=($more)
done

# 2. The steps, then the series: a scratch repository of the files it
# touches, one commit per step, git format-patch.
log "splitting them into the steps of ${SERIES#"$REPO"/}/"
python3 "$HARNESS/series.py" generate --series "$SERIES" \
	--pristine "$WORK/pristine" --final "$WORK/final" \
	--other "$OTHER=$TREE_OTHER" --name "$NAME" --email "$EMAIL" --out "$STAGES"
N=$(cat "$STAGES/count")
GEN=$WORK/git
series_repo "$GEN" "$WORK/pristine" "$BASE"
for k in $(seq -f %02g 1 "$N"); do
	while read -r f; do
		if [ -f "$STAGES/$k/$f" ]; then
			install_file "$STAGES/$k/$f" "$GEN/$f"
		else
			rm -f "$GEN/$f"
		fi
	done <"$STAGES/paths"
	git -C "$GEN" add -A .
	GIT_AUTHOR_DATE=$DATE GIT_COMMITTER_DATE=$DATE \
		git -C "$GEN" commit -q -s --cleanup=whitespace -F "$STAGES/$k.msg"
done
format_series "$GEN" "$OUT"
PATCHES=("${SERIES_PATCHES[@]}")

echo "The series: $N patches and a cover letter, in $OUT"
k=0
while read -r commit; do
	k=$((k + 1))
	echo "  $k/$N $(git -C "$GEN" log -1 --format=%s "$commit")"
	git -C "$GEN" show --stat=72 --format= "$commit" | sed 's/^/      /'
done < <(git -C "$GEN" rev-list --reverse pristine..HEAD)
sed 's/^/note: /' "$STAGES/notes"

# 3. The checks.
RESULTS=()
FAILED=0
result() {	# $1: 0 if the check passed; $2: its line
	RESULTS+=("$2")
	[ "$1" = 0 ] || FAILED=1
}

# Our .c and .h files, as a pattern for the compiler's and sparse's lines.
OURS=$(grep -E '\.[ch]$' "$STAGES/paths" | sed 's/[.]/\\./g' | paste -sd'|')
ours_warnings() {	# $1: a build log
	grep -E "(^|/)($OURS):[0-9]+(:[0-9]+)?: (warning|error)" "$1" || true
}

# build TREE BDIR STEP LOG [make arguments]: allnoconfig plus
# configs/patches-arm.config plus the symbols of steps 1..STEP, then
# STEP's objects with W=1.  Prints what went wrong; fails if anything did.
build() {
	local tree=$1 bdir=$2 k=$3 log=$4 frag want objs step warnings rc=0
	shift 4

	mkdir -p "$bdir"
	frag=$bdir/vcm-patches.config
	{
		cat "$HARNESS/configs/patches-arm.config"
		sed 's/.*/CONFIG_&=y/' "$STAGES/$k.symbols"
	} >"$frag"
	mapfile -t objs <"$STAGES/$k.objects"
	kmake() { make -C "$tree" O="$bdir" ARCH=arm CROSS_COMPILE="$CROSS_COMPILE" -j"$JOBS" "$@"; }
	step=$bdir/vcm-step.log
	echo "== step $k: ${objs[*]}" >"$step"
	KCONFIG_ALLCONFIG=$frag kmake allnoconfig >>"$step" 2>&1 || rc=1
	# A tristate that depends on m (a sample, say) takes as m.
	grep '^CONFIG_' "$frag" | while read -r want; do
		grep -qxF -e "$want" -e "${want%=y}=m" "$bdir/.config" ||
			echo "    step $k: $want did not take"
	done | grep . && rc=1
	kmake -k W=1 "$@" "${objs[@]}" >>"$step" 2>&1 || {
		echo "    step $k: the build failed:"
		grep -E ': (fatal )?error:' "$step" | sed "s|$tree/||" | sort -u | head -8 | sed 's/^/      /'
		rc=1
	}
	warnings=$(ours_warnings "$step" | grep ': warning:' | sed "s|$tree/||" | sort -u || true)
	if [ -n "$warnings" ]; then
		echo "    step $k: warnings in VCM files:"
		echo "$warnings" | sed 's/^/      /'
		rc=1
	fi
	cat "$step" >>"$log"
	return "$rc"
}

# git am of the series on 6.12, building after every patch.
log "git am on linux-source-$BASE, building each step"
TREE=$TREE_BASE
list=$WORK/tracked
git -C "$GEN" diff --name-only --diff-filter=M pristine HEAD >"$list"
scratch_repo "$TREE_BASE" "$list" "$BASE"
BDIR=$PCACHE/build/debian-$BASE-arm
applied=0 built=0 t0=$(date +%s)
for k in $(seq 1 "$N"); do
	if ! git -C "$TREE_BASE" am -q --no-3way "${PATCHES[k - 1]}" >>"$LOGS/am-$BASE.log" 2>&1; then
		git -C "$TREE_BASE" am --abort >/dev/null 2>&1 || true
		echo "    patch $k does not apply on $BASE (log: $LOGS/am-$BASE.log)"
		break
	fi
	applied=$k
	if build "$TREE_BASE" "$BDIR" "$(printf %02d "$k")" "$LOGS/build-$BASE.log"; then
		built=$((built + 1))
	fi
done
result $((N - applied)) "applies on $BASE: $([ "$applied" = "$N" ] && echo yes || echo "no ($applied of $N patches)")"
result $((N - built)) "builds on $BASE, patch by patch: $([ "$built" = "$N" ] && echo yes || echo no) ($built of $N steps built for ARM with W=1 and no warning in a VCM file; $(( $(date +%s) - t0 ))s, log: $LOGS/build-$BASE.log)"

# sparse, on the whole series' objects.
if [ "$applied" = "$N" ]; then
	log "sparse on linux-source-$BASE"
	rc=0
	build "$TREE_BASE" "$BDIR" "$(printf %02d "$N")" "$LOGS/sparse-$BASE.log" C=2 >/dev/null || rc=$?
	n=$(ours_warnings "$LOGS/sparse-$BASE.log" | sort -u | wc -l)
	ours_warnings "$LOGS/sparse-$BASE.log" | sort -u | sed 's/^/    /'
	[ "$rc" = 0 ] && [ "$n" = 0 ] || rc=1
	result $rc "sparse (make C=2 W=1) on $BASE: $n warnings in VCM files ($(wc -l <"$STAGES/$(printf %02d "$N").objects") objects; log: $LOGS/sparse-$BASE.log)"
else
	result 1 "sparse: not run, the series does not apply on $BASE"
fi

# checkpatch --strict on every patch, from the 6.12 tree.
log "checkpatch --strict"
errors=0 warnings=0 checks=0
for p in "${PATCHES[@]}"; do
	(cd "$TREE_BASE" && perl scripts/checkpatch.pl --strict --showfile "$p") \
		>"$LOGS/checkpatch-$(basename "$p" .patch).log" 2>&1 || true
	total=$(grep -E '^total: ' "$LOGS/checkpatch-$(basename "$p" .patch).log" | tail -1)
	read -r e w c < <(echo "$total" | sed -E 's/^total: ([0-9]+) errors?, ([0-9]+) warnings?, (([0-9]+) checks?, )?.*/\1 \2 \4/')
	c=${c:-0}
	if [ -z "$total" ] || [ "$e$w$c" != 000 ]; then
		echo "    $(basename "$p"): ${total:-checkpatch printed no total}"
		grep -E '^[^:]+:[0-9]+: (ERROR|WARNING|CHECK):' "$LOGS/checkpatch-$(basename "$p" .patch).log" |
			head -10 | sed 's/^/      /'
	fi
	[ -n "$total" ] || e=$((e + 1))
	errors=$((errors + e)) warnings=$((warnings + w)) checks=$((checks + c))
done
result $((errors + warnings)) "checkpatch --strict: $errors errors, $warnings warnings, $checks checks in $N patches (logs: $LOGS/checkpatch-*.log)"

# The series for 6.1, as a backport would carry it: MAINTAINERS changes
# between releases around our section, so each patch's MAINTAINERS hunk
# puts the section where 6.1's order does; every other hunk is the 6.12
# patch's, applied without fuzz.  Then git am of it on a pristine 6.1
# tree, and its build.
log "the series for linux-source-$OTHER"
GEN_OTHER=$WORK/git-$OTHER
OUT_OTHER=$OUT-$OTHER
rm -rf "$OUT_OTHER"
series_repo "$GEN_OTHER" "$TREE_OTHER" "$OTHER"
git -C "$GEN_OTHER" show pristine:MAINTAINERS >"$WORK/MAINTAINERS-$OTHER"
rebased=0 why=""
for k in $(seq 1 "$N"); do
	kk=$(printf %02d "$k")
	why="patch $k does not apply on $OTHER but for MAINTAINERS"
	git -C "$GEN_OTHER" apply --index --exclude=MAINTAINERS "${PATCHES[k - 1]}" \
		>>"$LOGS/am-$OTHER.log" 2>&1 || break
	why="patch $k: no place for our section in $OTHER's MAINTAINERS"
	python3 "$HARNESS/series.py" maintainers --maintainers "$WORK/MAINTAINERS-$OTHER" \
		--section "$STAGES/$kk.section" >"$GEN_OTHER/MAINTAINERS" 2>>"$LOGS/am-$OTHER.log" || break
	git -C "$GEN_OTHER" add MAINTAINERS
	why="patch $k: git commit failed"
	GIT_AUTHOR_DATE=$DATE GIT_COMMITTER_DATE=$DATE \
		git -C "$GEN_OTHER" commit -q -s --cleanup=whitespace -F "$STAGES/$kk.msg" \
		>>"$LOGS/am-$OTHER.log" 2>&1 || break
	rebased=$k
done
PATCHES_OTHER=()
if [ "$rebased" = "$N" ]; then
	format_series "$GEN_OTHER" "$OUT_OTHER"
	PATCHES_OTHER=("${SERIES_PATCHES[@]}")
	if ! python3 "$HARNESS/series.py" same --a "${PATCHES[@]}" --b "${PATCHES_OTHER[@]}" \
		2>>"$LOGS/am-$OTHER.log"; then
		rebased=0 why="the series for $OTHER differs from $BASE's outside MAINTAINERS"
	fi
fi
TREE=$TREE_OTHER
scratch_repo "$TREE_OTHER" "$list" "$OTHER"
applied=0
if [ "$rebased" != "$N" ]; then
	echo "    $why (log: $LOGS/am-$OTHER.log)"
elif git -C "$TREE_OTHER" am -q --no-3way "${PATCHES_OTHER[@]}" >>"$LOGS/am-$OTHER.log" 2>&1; then
	applied=1
else
	git -C "$TREE_OTHER" am --abort >/dev/null 2>&1 || true
	grep -E '^(error|Patch failed)' "$LOGS/am-$OTHER.log" | head -5 | sed 's/^/    /'
fi
if [ "$applied" = 0 ]; then
	result 1 "applies on $OTHER: no (log: $LOGS/am-$OTHER.log)"
	result 1 "builds on $OTHER: not tried"
else
	result 0 "applies on $OTHER: yes, git am of $OUT_OTHER (the same patches, each MAINTAINERS hunk placing our section in $OTHER's order)"
	log "building the series on linux-source-$OTHER"
	t0=$(date +%s) rc=0
	build "$TREE_OTHER" "$PCACHE/build/debian-$OTHER-arm" "$(printf %02d "$N")" "$LOGS/build-$OTHER.log" || rc=$?
	result $rc "builds on $OTHER: $([ "$rc" = 0 ] && echo yes || echo no) (the whole series for ARM with W=1; $(( $(date +%s) - t0 ))s, log: $LOGS/build-$OTHER.log)"
fi

for line in "${RESULTS[@]}"; do
	echo "$line"
done
echo "make patches: $([ "$FAILED" = 0 ] && echo "all checks passed" || echo "a check FAILED") ($(( $(date +%s) - START ))s)"
exit "$FAILED"
