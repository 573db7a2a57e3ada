#!/usr/bin/env bash
# tests/cli/stack.sh - `dtproc stack`: text and --json output of known
# chains (one and several threads), --depth, bad arguments and pids, a
# victim that runs on unharmed (same output, exit 0, no stray SIGTRAP).
# Synchronization: FIFOs, ready lines, and the kernel's view of the
# victim's system call (/proc/PID/task/TID/syscall); never sleeps.
. "$(dirname "$0")/lib.sh"

V=$BUILD/tests/victims
fifo_setup stack

# in_read TID: wait (bounded) until thread TID of $vpid blocks in read(2)
# of its stdin (fd 0).
in_read() {
	local i s fd
	for ((i = 0; i < 200000; i++)); do
		read -r s fd _ <"/proc/$vpid/task/$1/syscall" 2>/dev/null
		[ "$s" = 0 ] && [ "$fd" = 0x0 ] && return 0
	done
	return 1
}

# reference MODE BYTES: the victim's last line when nobody stacks it.
reference() {
	printf '%s' "$2" | "$V/stackv" "$1" | tail -n 1
}

# finish BYTES NAME MODE: the victim reads BYTES, prints the same "done N"
# line as when untouched, and exits 0 (a stray SIGTRAP would kill it).
finish() {
	local rc line want
	want=$(reference "$3" "$1")
	printf '%s' "$1" >&7
	read -r line <&8
	wait "$vpid"
	rc=$?
	exec 7>&- 8<&-
	[ "$rc" -eq 0 ] && [ "$line" = "$want" ] && ok "$2-victim-unharmed" ||
		fail "$2-victim-unharmed" "exit $rc, line '$line', want '$want'"
}

expect() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else fail "$1" "no '$3' in: $(head -c 1200 "$2")"; fi
}

# ---- one thread: main -> a -> ns::b -> c -> read
start "$V/stackv" chain
in_read "$vpid" || fail chain-blocked "victim never blocked"
dt stack "$vpid" >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && ok stack-exit-0 || fail stack-exit-0 "rc=$rc $(cat "$T/err")"
head -n 1 "$T/out" | grep -qx "thread $vpid (stackv):" && ok stack-header ||
	fail stack-header "$(head -n 1 "$T/out")"
expect stack-frame-0 "$T/out" '^#0 +0x[0-9a-f]{16}  libc\.so\.6`read\+0x[0-9a-f]+$'
# the chain, in order and consecutive
got=$(sed -n 's/^#[0-9]* *0x[0-9a-f]*  //p' "$T/out" | sed 's/+0x[0-9a-f]*$//' | paste -sd' ')
case " $got " in
*" stackv\`c stackv\`ns::b(int) stackv\`a stackv\`main libc.so.6\`__libc_start_call_main libc.so.6\`__libc_start_main stackv\`_start ") ok stack-chain ;;
*) fail stack-chain "got: $got" ;;
esac
[ "$(proc_state=$(awk '/^State/ {print $2}' "/proc/$vpid/status"); echo "$proc_state")" != t ] &&
	ok stack-not-left-stopped || fail stack-not-left-stopped "victim still in a ptrace stop"
grep -q '^TracerPid:[[:space:]]*0$' "/proc/$vpid/status" && ok stack-detached ||
	fail stack-detached "$(grep TracerPid "/proc/$vpid/status")"

# --depth 2: two frames
dt stack --depth 2 "$vpid" >"$T/d2" 2>&1
[ "$(grep -c '^#' "$T/d2")" -eq 2 ] && ok stack-depth || fail stack-depth "$(cat "$T/d2")"

# --json: one document, the same frames
dt stack --json "$vpid" >"$T/json" 2>"$T/err"; rc=$?
if [ $rc -eq 0 ] && python3 - "$T/json" "$vpid" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
assert d["pid"] == pid, d
t = d["threads"]
assert len(t) == 1 and t[0]["tid"] == pid and t[0]["name"] == "stackv", t
names = [f["frame"].split("+")[0] for f in t[0]["frames"]]
i = names.index("stackv`c")
assert names[i:i + 4] == ["stackv`c", "stackv`ns::b(int)", "stackv`a", "stackv`main"], names
assert all(f["pc"].startswith("0x") for f in t[0]["frames"])
PY
then ok stack-json; else fail stack-json "rc=$rc $(head -c 800 "$T/json") $(cat "$T/err")"; fi
finish x chain chain

# ---- three threads, each its own chain
start "$V/stackv" threads
for t in t1 t2 t3; do
	in_read "$(field $t "$ready")" || fail threads-blocked "$t never blocked"
done
dt stack "$vpid" >"$T/thr" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && ok threads-exit-0 || fail threads-exit-0 "rc=$rc $(cat "$T/err")"
[ "$(grep -c '^thread ' "$T/thr")" -eq 4 ] && ok threads-four || fail threads-four "$(cat "$T/thr")"
for t in t1:one_top t2:two_top t3:three_top; do
	tid=$(field "${t%%:*}" "$ready")
	awk -v h="thread $tid (stackv):" '$0 == h { on = 1; next } /^thread / { on = 0 } on' \
		"$T/thr" >"$T/one"
	expect "threads-${t##*:}" "$T/one" "stackv\`${t##*:}\+"
done
finish xxx threads threads

# ---- errors: nothing left stopped
dt stack 999999999 >"$T/o" 2>"$T/e"; rc=$?
[ $rc -ne 0 ] && ok bad-pid-fails || fail bad-pid-fails "rc=0"
expect bad-pid-message "$T/e" 'pid 999999999'
dt stack notapid >"$T/o" 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && ok not-a-pid || fail not-a-pid "rc=$rc"
dt stack --depth 0 1 >"$T/o" 2>"$T/e"; rc=$?
[ $rc -eq 2 ] && ok bad-depth || fail bad-depth "rc=$rc"
dt stack --help | grep -q 'usage: dtproc stack' && ok stack-help || fail stack-help "no usage"
dt --help | grep -q '^  stack ' && ok main-help-lists-stack || fail main-help-lists-stack "no stack"

# not permitted: an unprivileged dtproc may not grab the process of another
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	start "$V/stackv" chain
	in_read "$vpid"
	nobody_setup
	nobody "$X/bin/dtproc" stack "$vpid" >"$T/o" 2>"$T/e"; rc=$?
	rm -rf "$X"
	[ $rc -ne 0 ] && ok eperm-fails || fail eperm-fails "rc=0"
	expect eperm-message "$T/e" "pid $vpid"
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$vpid/status" && ok eperm-untouched ||
		fail eperm-untouched "traced"
	finish x eperm chain
else
	skip eperm "needs root, user nobody and setpriv"
fi

summary
