#!/usr/bin/env bash
# tests/cli/watch.sh - `dtproc watch` and the command line, on real processes.
# Synchronization is through FIFOs and the victims' ready lines, never sleeps.
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
T=$(mktemp -d /tmp/dtproc-cli.XXXXXX)
trap 'rm -rf "$T"; kill $(jobs -p) 2>/dev/null' EXIT

# expect NAME FILE PATTERN: FILE has a line matching the extended regex.
expect() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else fail "$1" "no '$3' in: $(head -c 600 "$2")"; fi
}

# ---- help and version
"$DT" --help >"$T/help" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "watch" "$T/help" && ok help || fail help "rc=$rc"
"$DT" --version >"$T/ver" 2>&1
ver=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define DTPROC_VERSION_$p[[:space:]]*\([0-9]*\).*/\1/p" \
	"$(dirname "$0")/../../include/dtproc.h"; done | paste -sd. -)
expect version "$T/ver" "^dtproc ${ver//./\\.}\$"
"$DT" watch --help >"$T/wh" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q -- "--json" "$T/wh" && ok watch-help || fail watch-help "rc=$rc"
"$DT" frobnicate >"$T/unk" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "unknown command 'frobnicate'" "$T/unk" && ok unknown-command || fail unknown-command "rc=$rc"

# ---- usage errors: exit 2, a clear message
"$DT" watch >"$T/u1" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "exactly one of" "$T/u1" && ok usage-no-target || fail usage-no-target "rc=$rc"
"$DT" watch -p abc >"$T/u2" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "invalid pid 'abc'" "$T/u2" && ok usage-bad-pid || fail usage-bad-pid "rc=$rc"
# with a command, dtproc's own failures are 125 (the command's status
# stays its own); 127 not found, 126 not runnable
"$DT" watch -c "echo 'oops" >"$T/u3" 2>&1; rc=$?
[ $rc -eq 125 ] && grep -q "unterminated single quote" "$T/u3" && ok usage-unterminated-quote || fail usage-unterminated-quote "rc=$rc"
"$DT" watch -c "   " >"$T/u4" 2>&1; rc=$?
[ $rc -eq 125 ] && grep -q "empty command" "$T/u4" && ok usage-empty-command || fail usage-empty-command "rc=$rc"

# ---- bad targets: message names the file or pid and the reason
"$DT" watch -- /nonexistent/prog >"$T/e1" 2>&1; rc=$?
[ $rc -eq 127 ] && grep -q "failed to execute /nonexistent/prog: No such file or directory" "$T/e1" \
	&& ok error-missing-file || fail error-missing-file "rc=$rc $(cat "$T/e1")"
printf 'just text\n' >"$T/notelf"; chmod +x "$T/notelf"
"$DT" watch -- "$T/notelf" >"$T/e2" 2>&1; rc=$?
[ $rc -eq 126 ] && grep -q "failed to execute $T/notelf: Exec format error" "$T/e2" \
	&& ok error-not-elf || fail error-not-elf "rc=$rc $(cat "$T/e2")"
"$DT" watch -p 999999999 >"$T/e3" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "failed to grab pid 999999999: no such process" "$T/e3" \
	&& ok error-no-such-pid || fail error-no-such-pid "rc=$rc $(cat "$T/e3")"
"$DT" watch -p 2 >"$T/e5" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "failed to grab pid 2: process is a kernel thread" "$T/e5" \
	&& ok error-kernel-thread || fail error-kernel-thread "rc=$rc $(cat "$T/e5")"

# ---- -c: exit status is the child's, argv split like a shell, env passed
DTPROC_TEST_ENV=hello "$DT" watch -c "$V/exit_code 7 'a b' \"c \\\"d\\\"\" e\\ f" >"$T/c1" 2>&1; rc=$?
[ $rc -eq 7 ] && ok exit-status-passed || fail exit-status-passed "rc=$rc"
expect argv-quotes-single "$T/c1" '^argv2=a b$'
expect argv-quotes-double "$T/c1" '^argv3=c "d"$'
expect argv-backslash "$T/c1" '^argv4=e f$'
expect env-passed "$T/c1" '^env=hello$'
expect event-exited "$T/c1" 'exited +status 7$'
expect event-created "$T/c1" "created +/.*/exit_code$"
"$DT" watch -- "$V/exit_code" sig15 >"$T/c2" 2>&1; rc=$?
[ $rc -eq 143 ] && ok killed-status-128-plus || fail killed-status-128-plus "rc=$rc"
expect event-killed "$T/c2" 'killed +SIGTERM'
# the signals dtproc blocks for itself must not reach the child's mask
expect child-mask-clean "$T/c2" '^blocked=none$'

# ---- the issue's example: bash with a pipe and a background job
"$DT" watch -c "bash -c 'ls / | wc -l; sleep 0.1 & wait'" >"$T/b" 2>&1; rc=$?
forks=$(grep -c ' fork ' "$T/b")
[ $rc -eq 0 ] && [ "$forks" -eq 3 ] && ok bash-example-forks || fail bash-example-forks "rc=$rc forks=$forks"
expect bash-example-sigchld "$T/b" 'signal +SIGCHLD'
expect bash-example-exit "$T/b" 'exited +status 0$'

# ---- a multithreaded program: demo
"$DT" watch -- "$V/demo" >"$T/d" 2>&1; rc=$?
nt=$(grep -c 'thread-new' "$T/d"); nx=$(grep -c 'thread-exit' "$T/d")
[ $rc -eq 0 ] && [ "$nt" -eq 2 ] && [ "$nx" -eq 2 ] && ok demo-threads || fail demo-threads "rc=$rc new=$nt exit=$nx"
expect demo-signal "$T/d" 'signal +SIGUSR1'
expect demo-fork "$T/d" ' fork +child [0-9]+'
expect demo-victim-ok "$T/d" 'SIGUSR1 handled'

# ---- exec: N images, and from a non-leader thread
"$DT" watch -- "$V/execer" self 3 <<<"g" >"$T/x1" 2>&1; rc=$?
ne=$(grep -c ' exec ' "$T/x1")
[ $rc -eq 0 ] && [ "$ne" -eq 3 ] && ok exec-self-3 || fail exec-self-3 "rc=$rc execs=$ne"
"$DT" watch -- "$V/execer" thread <<<"g" >"$T/x2" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -Eq ' exec .*from thread [0-9]+' "$T/x2" && ok exec-from-thread \
	|| fail exec-from-thread "rc=$rc $(cat "$T/x2")"
"$DT" watch -- "$V/execer" fail <<<"g" >"$T/x3" 2>&1; rc=$?
[ $rc -eq 3 ] && ! grep -q ' exec ' "$T/x3" && ok exec-failed-changes-nothing || fail exec-failed-changes-nothing "rc=$rc"

# ---- vfork and posix_spawn children
"$DT" watch -- "$V/forker" spawn_true <<<"g" >"$T/f1" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q ' vfork ' "$T/f1" && grep -q 'vfork-done' "$T/f1" && grep -q 'child_exit=0' "$T/f1" \
	&& ok posix-spawn-vfork || fail posix-spawn-vfork "rc=$rc $(cat "$T/f1")"

# ---- --json: one valid object per line
"$DT" watch --json -- "$V/demo" 2>"$T/j" >/dev/null; rc=$?
if grep '^{' "$T/j" | python3 -c '
import json, sys
kinds = [json.loads(l)["event"] for l in sys.stdin]
assert kinds[0] == "created" and kinds[-1] == "exited", kinds
assert kinds.count("thread-new") == 2, kinds
'; then ok json-valid; else fail json-valid "$(cat "$T/j")"; fi

# ---- grab, Ctrl-C: released running and unharmed; exit 0 (no command:
# Ctrl-C is how a watch of -p ends)
mkfifo "$T/vin" "$T/vout" "$T/wout"
"$V/spin" <"$T/vin" >"$T/vout" &
vpid=$!
exec 7>"$T/vin" 8<"$T/vout"
read -r _ _ <&8
"$DT" watch -p $vpid -o "$T/wout" 2>"$T/werr" &
dpid=$!
exec 9<"$T/wout"
read -r line <&9
case "$line" in *grabbed*) ok grab-reported ;; *) fail grab-reported "$line" ;; esac
tracer=$(awk '/TracerPid/ {print $2}' /proc/$vpid/status)
# the tracer is one of dtproc's threads (its control thread)
tracer_tg=$(awk '/^Tgid/ {print $2}' /proc/$tracer/status 2>/dev/null)
[ "$tracer_tg" = "$dpid" ] && ok grab-traced || fail grab-traced "TracerPid=$tracer (process $tracer_tg)"
kill -INT $dpid
wait $dpid; rc=$?
[ $rc -eq 0 ] && ok sigint-grab-exit-0 || fail sigint-grab-exit-0 "rc=$rc $(cat "$T/werr")"
tracer=$(awk '/TracerPid/ {print $2}' /proc/$vpid/status)
state=$(awk '/State/ {print $2}' /proc/$vpid/status)
[ "$tracer" = 0 ] && [ "$state" != t ] && [ "$state" != T ] && ok sigint-released-running \
	|| fail sigint-released-running "tracer=$tracer state=$state"
echo g >&7
read -r spun <&8
wait $vpid; rc=$?
[ "$spun" = spun ] && [ $rc -eq 0 ] && ok grabbed-victim-unharmed || fail grabbed-victim-unharmed "rc=$rc $spun"
exec 7>&- 8<&- 9<&-

# watch_spin: dtproc watch -- spin, in the background ($dpid), its events
# and the victim's lines on fd 9, until spin is ready (its pid: $cpid)
watch_spin() {
	"$DT" watch -- "$V/spin" </dev/null >"$T/wout" 2>&1 &
	dpid=$!
	exec 9<"$T/wout"
	read -r line <&9
	cpid=$(echo "$line" | awk '{print $2}')
	while read -r word _ <&9; do [ "$word" = ready ] && break; done
}

# ---- -c, Ctrl-C: what we created is killed
watch_spin
kill -INT $dpid
wait $dpid; rc=$?
exec 9<&-
[ $rc -eq 130 ] && [ ! -e /proc/$cpid ] && ok sigint-kills-created || fail sigint-kills-created "rc=$rc pid=$cpid"

# ---- dtproc killed with SIGKILL: a created victim dies with it
watch_spin
exec 3>&2 2>/dev/null		# bash's "Killed" job notice is expected
kill -KILL $dpid
wait $dpid
exec 2>&3 3>&-
exec 9<&-
# the kernel kills it (EXITKILL): its pidfd turns readable when it dies
gone=$(python3 -c '
import os, select, sys
try:
    fd = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    print(1); sys.exit()
print(1 if select.select([fd], [], [], 10)[0] else 0)' "$cpid")
[ $gone = 1 ] && ok sigkill-kills-created || fail sigkill-kills-created "pid $cpid still alive"

# ---- job control from outside: stopped, continued, exit status intact
"$DT" watch -- "$V/signals" usr1 <"$T/vin" >"$T/wout" 2>&1 &
dpid=$!
exec 7>"$T/vin" 9<"$T/wout"
while read -r word cpid _ <&9; do [ "$word" = ready ] && break; done
kill -STOP $cpid
while read -r line <&9; do case "$line" in *stopped*SIGSTOP*) break ;; esac; done
st=$(awk '/State/ {print $2}' /proc/$cpid/status)
[ "$st" = t ] || [ "$st" = T ] && ok jobstop-reported || fail jobstop-reported "state=$st"
kill -CONT $cpid
while read -r line <&9; do case "$line" in *continued*) break ;; esac; done
ok jobcont-reported
echo q >&7
exec 7>&-
wait $dpid; rc=$?
cat <&9 >"$T/js"
exec 9<&-
[ $rc -eq 0 ] && grep -q 'count=0' "$T/js" && ok jobcontrol-victim-unharmed || fail jobcontrol-victim-unharmed "rc=$rc $(cat "$T/js")"

# ---- an image we may not read: control is lost (needs a user to drop to)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody_setup
	cp /bin/true "$X/exeonly" && chmod 0711 "$X/exeonly"
	nobody "$X/bin/dtproc" watch -- /bin/sh -c "exec $X/exeonly" >"$T/l1" 2>&1
	expect lost-on-unreadable-exec "$T/l1" "lost +exec'd set-id or unobservable program"
	nobody "$X/bin/dtproc" watch -- "$X/exeonly" >"$T/l2" 2>&1; rc=$?
	[ $rc -eq 125 ] && grep -q "failed to control pid [0-9]*: process exec'd set-id or unobservable program" "$T/l2" \
		&& ok create-unobservable-program || fail create-unobservable-program "rc=$rc $(cat "$T/l2")"
	rm -rf "$X"
else
	skip lost-on-unreadable-exec "needs root to drop to uid 65534 (setpriv)"
	skip create-unobservable-program "needs root to drop to uid 65534 (setpriv)"
fi

summary
