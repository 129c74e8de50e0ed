#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make patches: our kernel files as an upstream-style series against
# Debian's linux-source-6.12 and 6.1 (git format-patch, a cover letter),
# checked: git am on pristine trees, an ARM build (W=1) of every step, the
# KUnit suites of patch 1 and of the series, checkpatch --strict, sparse.
#
# harness/series/NN-name.txt, one per patch: header lines (continued on
# lines that start with white space), a blank line, the commit message.
#   Subject:  its subject
#   Files:    the files it adds (globs; the longest pattern matching wins)
#   Unifdef:  CONFIG_X: it adds the "#if CONFIG_X" code of the earlier
#             patches' files, which go through unifdef -UCONFIG_X
#   Why:      why it is where it is, for the cover letter
# cover.txt: Subject:, blank line, body; @PATCHES@ becomes the patches.
source "$(dirname "$0")/common.sh"

unset KDIR
BASE=6.12	# the series is made against this tree
OTHER=6.1	# and must apply and build here too
PCACHE=$VCM_CACHE/patches
WORK=$PCACHE/work
LOGS=$PCACHE/logs
START=$(date +%s)

KERNEL_SERIES=$BASE ensure_packages "linux-source-$OTHER" git perl sparse unifdef
mkdir -p "$WORK" "$LOGS"
rm -f "$LOGS"/*.log

# The author and date: this repository's user and last commit.
NAME=$(git -C "$REPO" config user.name 2>/dev/null || echo "VCM developers")
EMAIL=$(git -C "$REPO" config user.email 2>/dev/null || echo "vcm@example.org")
export GIT_AUTHOR_NAME=$NAME GIT_COMMITTER_NAME=$NAME GIT_AUTHOR_EMAIL=$EMAIL \
	GIT_COMMITTER_EMAIL=$EMAIL GIT_AUTHOR_DATE GIT_COMMITTER_DATE
GIT_AUTHOR_DATE=$(git -C "$REPO" log -1 --format=%cD 2>/dev/null || date -R)
GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE

# field NAME FILE: the value of header NAME of a patch's text.
field() {
	awk -v k="$1:" 'NF == 0 { exit }
		$1 == k { on = 1; sub(/^[^:]*:[ \t]*/, ""); v = $0; next }
		on && /^[ \t]/ { sub(/^[ \t]+/, ""); v = v " " $0; next }
		{ on = 0 } END { print v }' "$2"
}

TXT=("$HARNESS"/series/[0-9][0-9]-*.txt)
N=${#TXT[@]}

# $WORK/owners: each of our files and the patch that adds it.
repo_kernel_files | while read -r f; do
	best=0 len=-1 tie=0
	for k in $(seq 1 "$N"); do
		read -r -a pats <<<"$(field Files "${TXT[k - 1]}")"
		for p in "${pats[@]}"; do
			# shellcheck disable=SC2053
			[[ $f == $p ]] || continue
			q=${p//\*/}
			[ "${#q}" != "$len" ] || [ "$k" = "$best" ] || tie=$k
			[ "${#q}" -le "$len" ] || best=$k len=${#q} tie=0
		done
	done
	[ "$best" != 0 ] && [ "$tie" = 0 ] ||
		{ echo "$f: in no patch, or in two alike (harness/series/*.txt)" >&2; exit 1; }
	echo "$f $best"
done >"$WORK/owners"

# step_file FILE SYMBOL...: our FILE as it reads before the patches that
# add the code of the SYMBOLs' #ifs.
step_file() {
	local f=$1 s args=()

	shift
	case $f in *.[ch]) ;; *) cat "$f"; return ;; esac
	for s; do
		grep -Eq "^[[:space:]]*#[[:space:]]*(el)?if.*\\b$s\\b" "$f" && args+=("-U$s")
	done
	[ ${#args[@]} -gt 0 ] || { cat "$f"; return; }
	# unifdef leaves blank lines where a block went; exits 1 when it did.
	{ unifdef "${args[@]}" "$f" || [ $? = 1 ]; } | cat -s
}

# The kernel files the series changes, where the kernel has them.
PLACES=$(grep -v '^#' "$HARNESS/kernel-edits/places" | awk 'NF { print $1 }')

# pristine_tree SERIES: sets TREE to Debian's linux-source-SERIES under
# $PCACHE, as unpacked: a scratch git repository whose commit "pristine"
# holds the kernel files the series changes.
pristine_tree() {
	# shellcheck disable=SC2034
	local KERNEL_SERIES=$1 VCM_CACHE=$PCACHE KSRC TREE_ID f

	kernel_tree
	TREE=$KSRC
	if [ -d "$TREE/.git" ]; then
		git -C "$TREE" am --abort >/dev/null 2>&1 || true
		git -C "$TREE" reset -q --hard pristine 2>/dev/null || true
		rm -rf "$TREE/.git"
	fi
	git -C "$TREE" init -q
	for f in $PLACES; do
		[ ! -f "$TREE/$f" ] || git -C "$TREE" add -f "$f"
	done
	git -C "$TREE" commit -q -m "pristine linux-source-$1"
	git -C "$TREE" tag pristine
}

# make_series TREE OUT: commits each patch in TREE as the pristine files
# plus our files of it and the patches before it, with kernel-edits for
# them; writes the series to OUT and puts TREE back to pristine.
make_series() {
	local tree=$1 out=$2 k j f syms files kc subject body

	: >"$WORK/overview"
	for k in $(seq 1 "$N"); do
		git -C "$tree" read-tree --reset -u pristine
		read -r -a syms <<<"$(for j in $(seq $((k + 1)) "$N"); do
			field Unifdef "${TXT[j - 1]}"; done | paste -sd' ')"
		awk -v k="$k" '$2 <= k { print $1 }' "$WORK/owners" >"$WORK/step"
		while read -r f; do
			mkdir -p "$(dirname "$tree/$f")"
			step_file "$REPO/$f" "${syms[@]}" >"$tree/$f"
		done <"$WORK/step"
		python3 "$HARNESS/kernel-edits.py" "$tree" --plain --files "$WORK/step" \
			--author "$NAME <$EMAIL>" --without "${syms[@]}"
		for f in $PLACES; do
			[ ! -f "$tree/$f" ] || echo "$f"
		done | cat - "$WORK/step" | (cd "$tree" && git add -f --pathspec-from-file=-)
		subject=$(field Subject "${TXT[k - 1]}")
		body=$(sed '1,/^$/d' "${TXT[k - 1]}")
		git -C "$tree" commit -q -s --cleanup=whitespace -m "$subject" -m "$body"
		files=$(git -C "$tree" diff --name-only --diff-filter=A HEAD~1 HEAD | paste -sd,)
		kc=$(git -C "$tree" diff HEAD~1 HEAD | sed -n 's/^+\(menu\)\{0,1\}config //p' | paste -sd,)
		[ -z "$kc" ] || files="${files:+$files; }Kconfig: $kc"
		{
			echo "$k/$N $subject"
			echo "$files" | sed 's/,/, /g' | fmt -w 68 | sed 's/^/    /'
			field Why "${TXT[k - 1]}" | fmt -w 68 | sed 's/^/    /'
			echo
		} >>"$WORK/overview"
	done
	rm -rf "$out"
	git -C "$tree" format-patch -q --cover-letter -o "$out" pristine..HEAD
	S=$(sed -n 's/^Subject: //p' "$HARNESS/series/cover.txt" | head -1) \
	B=$(sed '1,/^$/d' "$HARNESS/series/cover.txt" |
		sed -e '/^@PATCHES@$/{' -e "r $WORK/overview" -e 'd' -e '}') \
	perl -0pi -e 's/\*\*\* SUBJECT HERE \*\*\*/$ENV{S}/; s/\*\*\* BLURB HERE \*\*\*/$ENV{B}/' \
		"$out/0000-cover-letter.patch"
	git -C "$tree" reset -q --hard pristine
}

# A patch without what may differ between trees: the kernel's own files,
# line numbers, index lines, diffstats.
ours_only() {
	awk '/^diff --git /{ skip = $3 ~ /^a\/(MAINTAINERS|.*Kconfig|.*Makefile)$/ && $3 !~ /\/vcm\// }
		!skip' "$1" | grep -Ev '^(index |From [0-9a-f]{40} | \S+ +\| )' | sed 's/^@@ .*/@@/'
}

pristine_tree "$OTHER"
TREE_OTHER=$TREE
pristine_tree "$BASE"
TREE_BASE=$TREE
log "writing the series for linux-source-$BASE and $OTHER"
make_series "$TREE_BASE" "$PCACHE/series"
make_series "$TREE_OTHER" "$PCACHE/series-$OTHER"
mapfile -t PATCHES < <(printf '%s\n' "$PCACHE"/series/[0-9]*.patch | grep -v /0000-)

echo "The series: $N patches and a cover letter, in $PCACHE/series"
for k in $(seq 1 "$N"); do
	echo "  $k/$N $(field Subject "${TXT[k - 1]}")"
	sed -n '/^---$/,/^$/p' "${PATCHES[k - 1]}" | sed '1d;$d; s/^/    /'
done

RESULTS=()
FAILED=0
result() {	# $1: 0 if the check passed; $2: its line
	RESULTS+=("$2")
	[ "$1" = 0 ] || FAILED=1
}

# build_step DIR LOG: the ARM build, in DIR, of the Kconfig symbols and
# objects that the patches applied to $TREE so far add.
build_step() {
	local dir=$1 log=$2 objs

	{
		cat "$HARNESS/configs/patches-arm.config"
		git -C "$TREE" diff pristine HEAD | sed -n 's/^+\(menu\)\{0,1\}config \(.*\)/CONFIG_\2=y/p'
	} >"$WORK/patches.config"
	mapfile -t objs < <(git -C "$TREE" diff --name-only --diff-filter=A pristine HEAD |
		sed -n 's/\.c$/.o/p')
	KSRC=$TREE build_objects "$dir" arm "$WORK/patches.config" "$dir/step.out" "${objs[@]}"
	local rc=$?
	cat "$dir/step.out" >>"$log"
	return $rc
}

# check_suites LABEL BDIR SUITES FRAGMENT...: the KUnit suites of $TREE.
check_suites() {
	local label=$1 rc=0

	RUNS=()
	KSRC=$TREE kunit_run "$@" >>"$LOGS/suites.log" 2>&1
	python3 "$HARNESS/check-results.py" "${RUNS[@]}" >"$WORK/judged" || rc=1
	cat "$WORK/judged" >>"$LOGS/suites.log"
	grep '^  ' "$WORK/judged" | head -10 | sed 's/^/  /' || true
	result "$rc" "suites of $label: $(tail -1 "$WORK/judged") (log: $LOGS/suites.log)"
}

# git am of the series on 6.12, building after every patch, with the
# suites of the first patch and of the whole series.
log "git am on linux-source-$BASE, building each step"
TREE=$TREE_BASE
BDIR=$PCACHE/build/debian-$BASE-arm
applied=0 built=0 t0=$(date +%s)
for k in $(seq 1 "$N"); do
	if ! git -C "$TREE" am -q --no-3way "${PATCHES[k - 1]}" >>"$LOGS/am-$BASE.log" 2>&1; then
		git -C "$TREE" am --abort >/dev/null 2>&1 || true
		echo "    patch $k does not apply on $BASE (log: $LOGS/am-$BASE.log)"
		break
	fi
	applied=$k
	build_step "$BDIR" "$LOGS/build-$BASE.log" && built=$((built + 1)) || echo "    step $k did not build"
	if [ "$k" = 1 ]; then
		log "the suites of patch 1"
		t1=$(date +%s)
		{
			grep -v '^CONFIG_VCM' "$HARNESS/configs/base.config"
			git -C "$TREE" diff pristine HEAD | sed -n 's/^+config \(.*\)/CONFIG_\1=y/p'
		} >"$WORK/kunit-1.config"
		suites=$(git -C "$TREE" diff pristine HEAD | sed -n 's/^+\t\.name = "\(vcm_[a-z_]*\)",$/\1/p' |
			sort -u | paste -sd,)
		KUNIT_ARCH=arm check_suites "patch 1" "$PCACHE/build/debian-$BASE-kunit-patch1" \
			"$suites" "$WORK/kunit-1.config" "$HARNESS/configs/arch-arm.config" \
			"$HARNESS/configs/debug.config"
		t0=$((t0 + $(date +%s) - t1))
	fi
done
result $((N - applied)) "applies on $BASE: $([ "$applied" = "$N" ] && echo yes || echo "no ($applied of $N patches)")"
result $((N - built)) "builds on $BASE, patch by patch: $([ "$built" = "$N" ] && echo yes || echo no) ($built of $N steps built for ARM with W=1 and no warning in a VCM file; $(( $(date +%s) - t0 ))s, log: $LOGS/build-$BASE.log)"

if [ "$applied" = "$N" ]; then
	log "the suites of the whole series"
	KUNIT_ARCH=arm vcm_configs refcnt-y
	KUNIT_ARCH=arm check_suites "the whole series" "$PCACHE/build/debian-$BASE-kunit-series" \
		"$SUITES" "${CONFIG_FILES[@]}"
	log "sparse on linux-source-$BASE"
	rc=0 MAKE_ARGS=(C=2)
	build_step "$BDIR" "$LOGS/sparse-$BASE.log" >/dev/null || rc=1
	MAKE_ARGS=()
	n=$(vcm_warnings "$LOGS/sparse-$BASE.log" | wc -l)
	vcm_warnings "$LOGS/sparse-$BASE.log" | head -10 | sed 's/^/    /'
	checked=$(grep -cE '^  CHECK .*(mm|lib/tests|drivers/iommu|samples)/vcm' "$LOGS/sparse-$BASE.log" || true)
	[ "$n" = 0 ] && [ "$checked" != 0 ] || rc=1
	result $rc "sparse (make C=2 W=1) on $BASE: $n warnings in VCM files ($checked VCM files checked; log: $LOGS/sparse-$BASE.log)"
else
	result 1 "suites, sparse: not run, the series does not apply on $BASE"
fi

log "checkpatch --strict"
errors=0 warnings=0 checks=0
for p in "${PATCHES[@]}"; do
	clog=$LOGS/checkpatch-$(basename "$p" .patch).log
	(cd "$TREE_BASE" && perl scripts/checkpatch.pl --strict --showfile "$p") >"$clog" 2>&1 || true
	read -r e w c < <(sed -nE 's/^total: ([0-9]+) errors?, ([0-9]+) warnings?, (([0-9]+) checks?, )?.*/\1 \2 \4/p' \
		"$clog" | tail -1)
	e=${e:-1} w=${w:-0} c=${c:-0}	# no total line: an error
	if [ "$e$w$c" != 000 ]; then
		echo "    $(basename "$p"): $(grep '^total: ' "$clog" || echo "no total line")"
		grep -E '^[^:]+:[0-9]+: (ERROR|WARNING|CHECK):' "$clog" | head -10 | sed 's/^/      /'
	fi
	errors=$((errors + e)) warnings=$((warnings + w)) checks=$((checks + c))
done
result $((errors + warnings)) "checkpatch --strict: $errors errors, $warnings warnings, $checks checks in $N patches (logs: $LOGS/checkpatch-*.log)"

# The series for 6.1, made the same way from 6.1's files: the hunks of
# our files must be the 6.12 series', then git am on pristine 6.1.
log "git am on linux-source-$OTHER"
TREE=$TREE_OTHER
applied=1 why=""
mapfile -t OTHERS < <(printf '%s\n' "$PCACHE/series-$OTHER"/[0-9]*.patch | grep -v /0000-)
for k in $(seq 1 "$N"); do
	if ! cmp -s <(ours_only "${PATCHES[k - 1]}") <(ours_only "${OTHERS[k - 1]}"); then
		applied=0 why="patch $k differs from $BASE's in a file of ours"
	fi
done
if [ "$applied" = 1 ] && ! git -C "$TREE" am -q --no-3way "${OTHERS[@]}" >>"$LOGS/am-$OTHER.log" 2>&1; then
	git -C "$TREE" am --abort >/dev/null 2>&1 || true
	applied=0 why="git am failed (log: $LOGS/am-$OTHER.log)"
fi
if [ "$applied" = 1 ]; then
	result 0 "applies on $OTHER: yes, git am of $PCACHE/series-$OTHER (the same hunks in our files; the kernel's Kconfig, Makefiles and MAINTAINERS as 6.1 has them)"
	log "building the series on linux-source-$OTHER"
	t0=$(date +%s) rc=0
	build_step "$PCACHE/build/debian-$OTHER-arm" "$LOGS/build-$OTHER.log" || rc=1
	result $rc "builds on $OTHER: $([ "$rc" = 0 ] && echo yes || echo no) (the whole series for ARM with W=1; $(( $(date +%s) - t0 ))s, log: $LOGS/build-$OTHER.log)"
else
	result 1 "applies on $OTHER: no: $why"
fi

printf '%s\n' "${RESULTS[@]}"
echo "make patches: $([ "$FAILED" = 0 ] && echo "all checks passed" || echo "a check FAILED") ($(( $(date +%s) - START ))s)"
exit "$FAILED"
