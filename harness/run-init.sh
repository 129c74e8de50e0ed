#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the initramfs of make run and make shell, run by Debian's
# busybox-static.  make run (vcm_run.mode=story): loads the VCM sample and
# tells its story step by step with the files under /sys/kernel/debug/vcm/,
# runs some steps again and unloads it half-way, asks kmemleak, prints the
# kernel log between "vcm-kmsg: begin" and "vcm-kmsg: end", and powers
# off; lines for make run start with "vcm-run: ", the last "vcm-run:
# result: ok" or "... result: FAILED: why".  make shell (vcm_run.mode=shell):
# a shell on the console, where `vcm-story` tells the same story.

PATH=/bin
export PATH

STEP=/sys/kernel/debug/vcm-pipeline/step
VCM_DEBUGFS=/sys/kernel/debug/vcm
STATE=/tmp/vcm-story
MODULE=/lib/modules/vcm-pipeline.ko
KMEMLEAK=/sys/kernel/debug/kmemleak
# Steps run again before the sample is unloaded half-way.
HALFWAY=5

# Says why the story failed; returns 1.
failed() {
	echo "result: FAILED: $*"
	return 1
}

# The kernel's lines since the last call, told: the sample's step headings
# as they are, its other lines indented, anything else the kernel said too.
tell_kernel() {
	dmesg >"$STATE/kmsg"
	tail -n +$((seen + 1)) "$STATE/kmsg" | sed 's/^\[ *[0-9.]*\] //' |
	while IFS= read -r line; do
		case "$line" in
		"vcm-pipeline: step "*)
			echo
			echo "${line#vcm-pipeline: }" | sed 's/^step/Step/' ;;
		vcm-pipeline:*)
			echo "  ${line#vcm-pipeline: }" ;;
		*)
			echo "  kernel: $line" ;;
		esac
	done
	seen=$(wc -l <"$STATE/kmsg")
}

# Each file under vcm/ in debugfs, or "unchanged" for those that are.
tell_debugfs() {
	unchanged=""
	for f in $(find "$VCM_DEBUGFS" -type f 2>/dev/null | sort); do
		name=vcm/${f#"$VCM_DEBUGFS"/}
		saved=$STATE/$(echo "$name" | tr / _)
		cat "$f" >"$saved.new" 2>&1
		if [ -f "$saved" ] && cmp -s "$saved" "$saved.new"; then
			unchanged="$unchanged${unchanged:+, }$name"
		else
			echo "  debugfs $name:"
			if [ -s "$saved.new" ]; then
				sed 's/^/    /' "$saved.new"
			else
				echo "    (empty)"
			fi
		fi
		mv "$saved.new" "$saved"
	done
	[ -z "$unchanged" ] || echo "  debugfs $unchanged: unchanged"
}

# Whether no debugfs file under vcm/ names the pipeline's contexts; if
# one does, says which.
nothing_left() {
	left=$(find "$VCM_DEBUGFS" -type f -exec grep -l -e camera-sysmmu -e display-sysmmu -e camera-iommu -e display-iommu {} + |
	       tr '\n' ' ')
	[ -z "$left" ] || failed "$1 ${left% } still name the pipeline's contexts"
}

# kmemleak's new suspects, asked for twice after objects have had the 5 s
# it waits for: printed, and a failure.  Those from before the story were
# cleared at its start.  (A module's frames in a backtrace are bare
# addresses once it is unloaded, so suspects are not sorted by origin.)
leaks() {
	[ -w "$KMEMLEAK" ] || { failed "no $KMEMLEAK: the kernel has no CONFIG_DEBUG_KMEMLEAK"; return; }
	sleep 6
	# A kmemleak that turned itself off refuses the scan.
	{ echo scan >"$KMEMLEAK" && echo scan >"$KMEMLEAK"; } 2>/dev/null ||
		{ failed "kmemleak refuses to scan (it turned itself off: see the kernel log)"; return; }
	cat "$KMEMLEAK" >"$STATE/kmemleak"
	n=$(grep -c '^unreferenced object' "$STATE/kmemleak")
	if [ "$n" != 0 ]; then
		sed 's/^/  /' "$STATE/kmemleak"
		failed "kmemleak suspects $n leaked object(s)"
		return
	fi
	echo "kmemleak, asked after the unloading: no suspected leak."
}

# Runs every step of the sample and checks that nothing is left after;
# then runs some again and unloads the sample half-way, which must undo
# them, with nothing leaked.
story() {
	rm -rf "$STATE"
	mkdir -p "$STATE"
	# What kmemleak suspects already is not the story's; objects younger
	# than 5 s are not suspected yet, so the boot's are let age first.
	if [ -w "$KMEMLEAK" ]; then
		sleep 6
		echo scan >"$KMEMLEAK"
		echo clear >"$KMEMLEAK"
	fi
	if [ ! -e "$STEP" ] && [ -f "$MODULE" ]; then
		err=$(insmod "$MODULE" 2>&1) || { failed "insmod $MODULE: $err"; return; }
	fi
	[ -e "$STEP" ] ||
		{ failed "no $STEP: the kernel has no CONFIG_SAMPLE_VCM, or debugfs is not mounted"; return; }
	next=$(cat "$STEP")
	case "$next" in
	"next: 1/"*) ;;
	*) failed "the pipeline is half-way ($next); write \"undo\" to $STEP first"; return ;;
	esac
	total=${next#next: 1/}
	total=${total%% *}

	echo "Linux $(uname -r) on QEMU's $(uname -m) virt board, $(grep -c ^processor /proc/cpuinfo) CPUs."
	echo "VCM at boot:"
	dmesg >"$STATE/kmsg"
	sed -n 's/^\[ *[0-9.]*\] //; /^vcm/s/^/  /p' "$STATE/kmsg"
	seen=$(wc -l <"$STATE/kmsg")
	echo "Before the pipeline:"
	tell_debugfs

	i=1
	while [ "$i" -le "$total" ]; do
		what=$(cat "$STEP")
		what=${what#next: }
		err=$( { echo next >"$STEP"; } 2>&1 )
		rc=$?
		tell_kernel
		if [ "$rc" != 0 ]; then
			tell_debugfs
			failed "step ${what%%:*}: ${err##*: }"
			return
		fi
		tell_debugfs
		i=$((i + 1))
	done

	echo
	nothing_left "after the last step" || return 1
	case "$(cat "$STEP")" in
	"next: 1/"*) ;;
	*) failed "the pipeline did not start over after its last step"; return ;;
	esac
	echo "All $total steps done; no file under $VCM_DEBUGFS names the pipeline's contexts any more."

	echo
	echo "Steps 1-$HALFWAY again, then rmmod vcm-pipeline half-way: its exit undoes them."
	i=1
	while [ "$i" -le "$HALFWAY" ]; do
		err=$( { echo next >"$STEP"; } 2>&1 ) || { failed "step $i again: ${err##*: }"; return; }
		i=$((i + 1))
	done
	# The steps were told above; what they left is shown.
	dmesg >"$STATE/kmsg"
	seen=$(wc -l <"$STATE/kmsg")
	tell_debugfs
	echo "rmmod vcm-pipeline:"
	err=$(rmmod vcm-pipeline 2>&1) || { failed "rmmod vcm-pipeline: $err"; return; }
	tell_kernel
	tell_debugfs
	nothing_left "after rmmod" || return 1
	leaks || return 1
	echo "result: ok"
}

# The story with the kernel's messages kept off the console (it tells them
# itself, in order); the console's log level is restored after.
quiet_story() {
	level=$(cut -f1 /proc/sys/kernel/printk)
	echo 1 >/proc/sys/kernel/printk
	story
	rc=$?
	echo "$level" >/proc/sys/kernel/printk
	return $rc
}

case "$0" in
*vcm-story)
	quiet_story
	exit ;;
esac

# ---- /init ----

/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /etc
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t devtmpfs devtmpfs /dev 2>/dev/null

case " $(cat /proc/cmdline) " in
*" vcm_run.mode=shell "*)
	insmod "$MODULE"
	cat >/etc/profile <<'PROFILE'
export PATH=/bin
export PS1='vcm# '
# PID 1 is a script, not an init that powers off when asked.
alias poweroff='poweroff -f' reboot='poweroff -f' halt='poweroff -f'
PROFILE
	echo 7 >/proc/sys/kernel/printk
	echo
	echo "VCM shell: Linux $(uname -r) with the VCM sample (samples/vcm) loaded"
	echo "from $MODULE; debugfs is mounted on /sys/kernel/debug."
	printf '  %-48s %s\n' \
		"cat $STEP" "which step of the sample is next" \
		"echo next >$STEP" "run it; its story goes to the console" \
		"echo undo >$STEP" "release what the steps made" \
		"cat $VCM_DEBUGFS/*" "what VCM has: its contexts..." \
		"vcm-story" "all the steps, told as make run tells them" \
		"rmmod vcm-pipeline" "unload the sample (undoes its steps)" \
		"dmesg" "the kernel log"
	echo "Leave with poweroff (or Ctrl-A x, which quits QEMU at once)."
	echo
	setsid cttyhack sh -l
	poweroff -f ;;
esac

# Told as it goes, for make run to show while it runs.
quiet_story 2>&1 | sed 's/^/vcm-run: /'
echo 1 >/proc/sys/kernel/printk
echo "vcm-kmsg: begin"
dmesg
echo "vcm-kmsg: end"
poweroff -f
