#!/usr/bin/env bash
# tests/cli/inject.sh - dtproc killed (-9) while a system call it injected
# into a grabbed victim is in flight (DTPROC_TEST_INJECT holds it there,
# dtproc(3)): the victim goes on whole.
#
#   inject-page-stub	a victim running its own code: the shared page's
#			calls come after the scratch area's, so they run
#			from its resume stub; killed in the page's
#			memfd_create, the victim comes back by itself and
#			finishes right (before, that call ran with the
#			entry point's trap: SIGTRAP or SIGSEGV)
#   inject-release-page	the same victim released (SIGINT): the shared
#			page is unmapped before the scratch areas, from the
#			stub; killed in that munmap, the victim finishes
#			right (before, it came after the areas, with the
#			entry point's trap)
#   inject-insys-stub	a victim blocked in read (inside a system call
#			of its own): the page's calls run from the stub
#			too, its read restarted by hand if it comes back
#			through it; killed in memfd_create, it reads its
#			line and finishes right (before: the entry point's
#			trap, SIGTRAP)
#   inject-insys-back	the same, killed once its registers are back at
#			the call's exit stop, our interrupt pending: the
#			kernel restarts its read
#   inject-insys-sleep	a victim in nanosleep (restarted through
#			restart_syscall), killed in memfd_create: it
#			sleeps its whole time, no EINTR
#   inject-agent-unplanted a grab's run-time-linker breakpoint (r_brk) is
#			patched before any int3 is there: killed in the
#			page's memfd_create, the victim's dlopen after is
#			unharmed (before, the agent's int3 was planted
#			first, and the dlopen died of SIGTRAP)
#   inject-trapmask-back a victim blocked in read with SIGTRAP blocked,
#			killed in the first call (the area's mmap, from the
#			entry point) once its registers are back: its read
#			restarts, its mask its own (before, the call came
#			back through a trap, SIGTRAP unblocked meanwhile and
#			given back after the registers: left unblocked)
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
fifo_setup inject
trap '' PIPE		# a victim that died: writes to it fail, not us

# inj_kill NR [back] TRACE-ARGS...: trace -p $vpid held at each injected
# call (with back: once the registers are back), every hold answered but
# the first of call NR, where dtproc is killed; sets $how (stub or text)
# and $bad.  With $INT_AFTER set, dtproc is sent SIGINT (it releases the
# victim) once a call of that number is answered.
inj_kill() {
	local nr=$1 at= hold
	shift
	[ "$1" = back ] && { at=,back; shift; }
	rm -f "$T/po" "$T/pi" "$T/at"
	mkfifo "$T/po" "$T/pi"
	exec 5<>"$T/po" 6<>"$T/pi"
	DTPROC_TEST_INJECT=3,4$at "$DT" trace -p "$vpid" \
		"$@" -o /dev/null 2>"$T/err" 3>"$T/po" 4<"$T/pi" 5>&- 6>&- &
	dpid=$!
	{
		while read -t 60 -r _ _ _ n h <&5; do
			if [ "$n" = "$nr" ]; then
				echo "$h" >"$T/at"
				break
			fi
			printf x >&6
			[ "$n" = "${INT_AFTER:-}" ] && kill -INT "$dpid"
		done
		kill -9 "$dpid"	# held there (or no hold in 60 s)
	} &
	hold=$!
	{ wait "$hold"; wait "$dpid"; } 2>/dev/null
	exec 5>&- 6>&-
	bad=
	how=
	[ -s "$T/at" ] && read -r how <"$T/at"
	[ -n "$how" ] || bad="$bad no-hold-at-$nr"
}

# inj_end NAME [WANT]: the victim's stdin closed, its output to its end
# (lines joined by |) must be WANT (with none: checked by the caller in
# $out, $bad set) and its exit status 0; the verdict of NAME
inj_end() {
	exec 7>&-
	out=$(timeout 30 cat <&8 | tr '\n' '|')
	[ $# -lt 2 ] || [ "$out" = "$2" ] || bad="$bad out='$out'"
	[ $# -lt 2 ] || inj_verdict "$1"
}
# inj_verdict NAME: the victim's exit status 0, and the verdict
inj_verdict() {
	local rc
	wait "$vpid"
	rc=$?
	[ "$rc" = 0 ] || bad="$bad victim-rc=$rc"
	exec 8<&-
	[ -z "$bad" ] && ok "$1" || fail "$1" "$bad"
}

# ---- a victim in its own code (spin's main): the page's calls from the stub
start "$V/spin"
inj_kill 319 -f 'libc.so.6`malloc'
[ "$how" = stub ] || bad="$bad memfd_create-from-$how"
echo g >&7
inj_end inject-page-stub "spun|"

# ---- released: the page's munmap from the stub, before the areas
start "$V/spin"
INT_AFTER=3 inj_kill 11 -f 'libc.so.6`malloc'
[ "$how" = stub ] || bad="$bad munmap-from-$how"
echo g >&7
inj_end inject-release-page "spun|"

# ---- a victim inside a system call of its own: the stub too
# insys_read NAME [back]: blocked read, killed at memfd_create's hold
insys_read() {
	local name=$1
	shift
	start "$V/blocked" read
	inj_kill 319 "$@" -f 'libc.so.6`malloc'
	[ "$how" = stub ] || bad="$bad memfd_create-from-$how"
	echo >&7
	inj_end "$name" "read ok|sigcont=0|data=original|"
}
insys_read inject-insys-stub
insys_read inject-insys-back back

start "$V/blocked" sleep 3000
inj_kill 319 -f 'libc.so.6`malloc'
[ "$how" = stub ] || bad="$bad memfd_create-from-$how"
inj_end inject-insys-sleep
case $out in
slept_ms=*" eintr=0|sigcont=0|")
	ms=${out#slept_ms=}
	ms=${ms%% *}
	[ "${ms%.*}" -ge 3000 ] || bad="$bad slept-only-$ms"
	;;
*) bad="$bad out='$out'" ;;
esac
inj_verdict inject-insys-sleep

# ---- the agent's r_brk at a grab: no int3 while the patch is made
start "$BUILD/tests/victims/stressv" dlloop "$BUILD/tests/libs/libstressa.so"
inj_kill 319 -f 'libc.so.6`malloc'
echo "r 3" >&7
echo q >&7
inj_end inject-agent-unplanted "done 3|done wrong=0|"

# ---- a victim in read, SIGTRAP blocked: its mask back with its registers
start "$V/blocked" read trapmask
inj_kill 9 back -f 'libc.so.6`malloc'
echo >&7
inj_end inject-trapmask-back "read ok|sigcont=0|data=original|sigtrap=blocked|"

summary
