#!/bin/bash
# tests/cli/letgo.sh - `dtproc trace -p` of a threaded process with return
# probes, ended by -d, SIGINT or SIGTERM: the process is let go running,
# untraced, and takes no SIGTRAP.  Threads caught inside a trampoline are
# stepped out of it; the step's trap flag was left set (the trampoline's
# popfq made it the program's in the kernel's eyes) and the victim died
# of SIGTRAP right after the release, 3 runs in 3.
#
# The victim (stepv) reports a SIGTRAP from its handler ("sigtrap ...")
# and exits 99; "s" answers "steady" once every worker ran two more
# rounds, by which time a thread let go with the flag set has trapped.
# The first hit's event line (-e, on stderr with the report) says the
# probes are armed.
. "$(dirname "$0")/lib.sh"
fifo_setup letgo
trap '' PIPE		# a victim dead already: its status is the verdict
V=$BUILD/tests/victims
DT=$BUILD/bin/dtproc

# letgo NAME HOW PROBE...: trace stepv, end the run by HOW (-d, INT, TERM)
letgo() {
	local name=$1 how=$2 rc ans tracer line
	shift 2
	local fl=()
	for p in "$@"; do fl+=(-f "stepv\`$p"); done
	start "$V/stepv"
	rm -f "$T/ev"
	mkfifo "$T/ev"
	if [ "$how" = -d ]; then
		timeout -k 5 60 "$DT" trace -p "$vpid" -e -d 0.3 "${fl[@]}" \
			2>"$T/ev" >"$T/out" &
	else
		timeout -k 5 60 "$DT" trace -p "$vpid" -e "${fl[@]}" \
			2>"$T/ev" >"$T/out" &
	fi
	local dpid=$!
	exec 9<"$T/ev"
	# (a sanitizer's word may come first)
	while read -r -t 30 line <&9; do
		[[ $line == *stepv\`sv_target* ]] && break
	done
	cat <&9 >"$T/err" &
	[ "$how" != -d ] && kill -"$how" $dpid
	wait $dpid
	rc=$?
	exec 9<&-
	echo s >&7 2>/dev/null
	ans=
	while read -r -t 30 ans <&8; do
		case $ans in steady*|sigtrap*) break ;; esac
	done
	tracer=$(awk '/^TracerPid/ { print $2 }' /proc/$vpid/status 2>/dev/null)
	echo q >&7 2>/dev/null
	wait $vpid
	local st=$?
	exec 7>&- 8<&-
	if [[ $line != *stepv\`sv_target* ]]; then
		fail "$name" "no hit before the end: $line"
	elif [ $rc -ne 0 ]; then
		fail "$name" "dtproc exited $rc: $(head -c 300 "$T/err")"
	elif [[ $ans != steady* ]] || [ $st -ne 0 ]; then
		fail "$name" "the victim: '$ans', exit $st"
	elif [ "$tracer" != 0 ]; then
		fail "$name" "still traced: TracerPid=$tracer"
	else
		ok "$name"
	fi
}

for r in 1 2 3; do
	letgo "return-d-$r" -d sv_target:return
	letgo "return-int-$r" INT sv_target:return
	letgo "return-term-$r" TERM sv_target:return
	letgo "entry-return-d-$r" -d sv_target:entry sv_target:return
	letgo "entry-return-int-$r" INT sv_target:entry sv_target:return
done
summary
