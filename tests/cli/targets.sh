#!/usr/bin/env bash
# tests/cli/targets.sh - issue 14's names and targets in `dtproc trace`:
# C++ (cxxv.cc: a namespace, a class, overloads, a template) and Rust
# (namesv.c: v0 and legacy names through asm labels) names demangled in
# the report and -U frames and matched by globs in either form, raw with
# --mangled; -l on a process, at a command's stop, and on a file
# (--elf); strict matching (-Z); several -p targets with exact per-process
# counts, and a failing one releasing the others untouched.
# Readiness: the victims' own lines; dtproc says it has armed every
# process with -Z's warning for a probe matching nothing (zz_ready).
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
fifo_setup targets

# tr OUT ARGS...: dtproc trace ARGS, stdout and stderr in OUT, status $rc
tr_() {
	local o=$1
	shift
	dt trace "$@" >"$o" 2>&1
	rc=$?
}
# hits FILE LABEL: the hits of the line whose probe is LABEL exactly
hits() {
	awk -v l="$2" '{ h = $1; $1 = ""; sub(/^ +/, ""); if ($0 == l) { print h; f = 1 } }
	    END { if (!f) print 0 }' "$1"
}

# ---- C++: demangled in the table, globs in either form
tr_ "$T/c1" -f 'a.out`ns::Foo::bar*' -- "$V/cxxv" 10
if [ $rc -eq 0 ] && [ "$(hits "$T/c1" 'cxxv`ns::Foo::bar(int)')" = 10 ] &&
    [ "$(hits "$T/c1" 'cxxv`ns::Foo::bar(double)')" = 20 ]; then
	ok cxx-demangled-glob
else
	fail cxx-demangled-glob "rc=$rc $(cat "$T/c1")"
fi
tr_ "$T/c2" -f '_ZN2ns3Foo3bazEv' -f 'ns::twice*' -f 'ns::Foo::bar' -- "$V/cxxv" 4
if [ $rc -eq 0 ] && [ "$(hits "$T/c2" 'cxxv`ns::Foo::baz()')" = 12 ] &&
    [ "$(hits "$T/c2" 'cxxv`ns::twice<int>(int)')" = 4 ] &&
    [ "$(hits "$T/c2" 'cxxv`ns::Foo::bar(int)')" = 4 ] &&
    [ "$(hits "$T/c2" 'cxxv`ns::Foo::bar(double)')" = 8 ]; then
	ok cxx-mangled-glob-and-overloads
else
	fail cxx-mangled-glob-and-overloads "rc=$rc $(cat "$T/c2")"
fi
tr_ "$T/c3" --mangled -f 'ns::*' -- "$V/cxxv" 3
if [ $rc -eq 0 ] && [ "$(hits "$T/c3" 'cxxv`_ZN2ns3Foo3barEi')" = 3 ] &&
    ! grep -q 'ns::' "$T/c3"; then
	ok cxx-mangled-option
else
	fail cxx-mangled-option "rc=$rc $(cat "$T/c3")"
fi
tr_ "$T/c4" -U -f 'ns::Foo::baz' -- "$V/cxxv" 2
if [ $rc -eq 0 ] && grep -q '^ *cxxv`ns::Foo::baz()$' "$T/c4" &&
    grep -q '^ *cxxv`main+0x' "$T/c4"; then
	ok cxx-ustack-demangled
else
	fail cxx-ustack-demangled "rc=$rc $(cat "$T/c4")"
fi
tr_ "$T/c5" -U --mangled -f 'ns::Foo::baz' -- "$V/cxxv" 2
grep -q '^ *cxxv`_ZN2ns3Foo3bazEv$' "$T/c5" && ok cxx-ustack-mangled ||
	fail cxx-ustack-mangled "rc=$rc $(cat "$T/c5")"

# dstart LASTPID ARGS...: dtproc trace ARGS -Z -f zz_ready in the
# background (report in $T/rep, stderr on fd 9 through a FIFO, $dpid);
# 0 once it says zz_ready matches nothing in LASTPID (every process is
# armed then), else 1 with $dfirst what it said.
dstart() {
	local last=$1 l
	shift
	rm -f "$T/err" "$T/rep"
	mkfifo "$T/err"
	timeout -k 5 120 "$DT" trace "$@" -Z -f zz_ready -o "$T/rep" 2>"$T/err" &
	dpid=$!
	exec 9<"$T/err"
	dfirst=
	while read -r l <&9; do
		case $l in
		*"'zz_ready' matches no function in pid $last yet") return 0 ;;
		*"'zz_ready' matches no"*) ;;
		*) dfirst="$dfirst$l " ;;
		esac
	done
	return 1
}
# dend: SIGINT to dtproc, its status in $rc, the rest of its stderr in $T/err2
dend() {
	kill -INT "$dpid"
	wait "$dpid"
	rc=$?
	cat <&9 >"$T/err2"
	exec 9<&-
}
# victim2 NAME: a second namesv on fds 5 (stdin) and 6 (stdout): $vpid2
victim2() {
	rm -f "$T/v2in" "$T/v2out"
	mkfifo "$T/v2in" "$T/v2out"
	"$V/namesv" <"$T/v2in" >"$T/v2out" &
	vpid2=$!
	exec 5>"$T/v2in" 6<"$T/v2out"
	read -r _ <&6
}

# ---- Rust: v0 (_RNvCs1234_7mycrate3foo) and legacy
# (_ZN7mycrate3bar17h...E) names, demangled and matched
start "$V/namesv"
if dstart "$vpid" -p "$vpid" -f 'mycrate::*'; then
	echo "go 10" >&7
	read -r done_ <&8
	dend
	if [ $rc -eq 0 ] && [ "$(hits "$T/rep" 'namesv`mycrate::foo')" = 10 ] &&
	    [ "$(hits "$T/rep" 'namesv`mycrate::bar')" = 20 ] && ! grep -q '\$' "$T/rep"; then
		ok rust-demangled
	else
		fail rust-demangled "rc=$rc $(cat "$T/rep" "$T/err2")"
	fi
else
	fail rust-demangled "not armed: $dfirst"
	kill "$dpid" 2>/dev/null
fi

# ---- several -p: a comma list and a repeated -p, exact counts each
victim2
if dstart "$vpid2" -p "$vpid,$vpid2" -p "$vpid" -f 'mycrate::foo' -f names_plain; then
	echo "go 10" >&7
	read -r _ <&8
	echo "go 7" >&5
	read -r _ <&6
	dend
	a=$(awk -v p="pid $vpid (namesv):" '$0 == p { f = 1 } f && /namesv`mycrate::foo/ { print $1; exit }' "$T/rep")
	b=$(awk -v p="pid $vpid2 (namesv):" '$0 == p { f = 1 } f && /namesv`mycrate::foo/ { print $1; exit }' "$T/rep")
	if [ $rc -eq 0 ] && [ "$a" = 10 ] && [ "$b" = 7 ] &&
	    grep -qx 'total: 34 hits in 2 processes' "$T/rep"; then
		ok several-pids-exact
	else
		fail several-pids-exact "rc=$rc a=$a b=$b $(cat "$T/rep" "$T/err2")"
	fi
else
	fail several-pids-exact "not armed: $dfirst"
	kill "$dpid" 2>/dev/null
fi
# --json carries each pid and the total
if dstart "$vpid2" -p "$vpid,$vpid2" -f 'mycrate::foo' --json; then
	echo "go 3" >&7
	read -r _ <&8
	echo "go 2" >&5
	read -r _ <&6
	dend
	if python3 - "$T/rep" "$vpid" "$vpid2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["pid"]: p["total"] for p in d["processes"]}
assert got == {int(sys.argv[2]): 3, int(sys.argv[3]): 2}, got
assert d["total"] == 5, d
assert all(p["command"] == "namesv" for p in d["processes"]), d
PY
	then ok several-pids-json; else fail several-pids-json "rc=$rc $(cat "$T/rep")"; fi
else
	fail several-pids-json "not armed: $dfirst"
	kill "$dpid" 2>/dev/null
fi
# --time --json: one document in the same schema, each process's calls
if dstart "$vpid2" -p "$vpid" -p "$vpid2" -f 'mycrate::foo' --time --json; then
	echo "go 4" >&7
	read -r _ <&8
	echo "go 3" >&5
	read -r _ <&6
	dend
	if python3 - "$T/rep" "$vpid" "$vpid2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["pid"]: p["functions"][0]["calls"] for p in d["processes"]}
assert got == {int(sys.argv[2]): 4, int(sys.argv[3]): 3}, got
assert all(p["command"] == "namesv" and "calibration" in p
    for p in d["processes"]), d
assert d["functions"][0]["calls"] == 7, d
PY
	then ok several-pids-time-json; else fail several-pids-time-json "rc=$rc $(head -c 400 "$T/rep")"; fi
else
	fail several-pids-time-json "not armed: $dfirst"
	kill "$dpid" 2>/dev/null
fi
# one pid that cannot be grabbed: an error naming it, the others untouched
tr_ "$T/p1" -p "$vpid,999999999" -f 'mycrate::foo'
tracer=$(awk '/^TracerPid/ { print $2 }' /proc/$vpid/status)
if [ $rc -eq 1 ] && grep -q 'pid 999999999' "$T/p1" && [ "$tracer" = 0 ]; then
	ok several-pids-one-fails
else
	fail several-pids-one-fails "rc=$rc tracer=$tracer $(cat "$T/p1")"
fi
echo "go 1" >&7
read -r l <&8
[ "$l" = "done 1" ] && ok several-pids-released-running || fail several-pids-released-running "got '$l'"
tr_ "$T/p2" -p "$vpid,x" -f f
[ $rc -eq 2 ] && grep -q "invalid pid 'x'" "$T/p2" && ok several-pids-bad-list ||
	fail several-pids-bad-list "rc=$rc $(cat "$T/p2")"
tr_ "$T/p3" -p "$vpid" -s main -f f
[ $rc -eq 2 ] && grep -q -- "-s applies to a command" "$T/p3" && ok pid-with-s-rejected ||
	fail pid-with-s-rejected "rc=$rc $(cat "$T/p3")"
dt watch -p "$vpid" -p "$vpid2" >"$T/p4" 2>&1
[ $? -eq 2 ] && grep -q "only one -p" "$T/p4" && ok watch-one-pid ||
	fail watch-one-pid "$(cat "$T/p4")"

# ---- strict matching: nothing matched is an error, the process untouched
tr_ "$T/s1" -p "$vpid" -f 'mycrate::foo' -f no_such_fn_zz
tracer=$(awk '/^TracerPid/ { print $2 }' /proc/$vpid/status)
if [ $rc -eq 1 ] && grep -qx "dtproc: trace: probe 'no_such_fn_zz' matches no function in pid $vpid (-Z allows it)" "$T/s1" &&
    [ "$tracer" = 0 ]; then
	ok strict-grab-released
else
	fail strict-grab-released "rc=$rc tracer=$tracer $(cat "$T/s1")"
fi
tr_ "$T/s2" -f no_such_fn_zz -- "$V/cxxv" 1
[ $rc -eq 125 ] && ! grep -q '^cxx' "$T/s2" && ok strict-command-not-run ||
	fail strict-command-not-run "rc=$rc $(cat "$T/s2")"

# ---- -l: a process, a command at its stop, a file
tr_ "$T/l1" -l -p "$vpid" -f 'mycrate::*'
if [ $rc -eq 0 ] && grep -q '^namesv`mycrate::foo  *0x[0-9a-f]*  *15  trampoline$' "$T/l1" &&
    grep -q '^2 sites: 2 patched' "$T/l1"; then
	ok list-pid
else
	fail list-pid "rc=$rc $(cat "$T/l1")"
fi
tr_ "$T/l2" -l -f 'ns::Foo::bar' -- "$V/cxxv" 1
if [ $rc -eq 0 ] && grep -q '^cxxv`ns::Foo::bar(double) ' "$T/l2" && ! grep -q '^cxx ' "$T/l2"; then
	ok list-command
else
	fail list-command "rc=$rc $(cat "$T/l2")"
fi
tr_ "$T/l3" -l --elf "$V/cxxv" -f 'ns::*' -f '_ZN2ns3Foo3barEd:return'
if [ $rc -eq 0 ] && grep -q '^cxxv`ns::twice<int>(int) ' "$T/l3" &&
    grep -q '^cxxv`ns::Foo::bar(double):return ' "$T/l3" &&
    grep -qx '6 sites in .*/cxxv' "$T/l3"; then
	ok list-elf
else
	fail list-elf "rc=$rc $(cat "$T/l3")"
fi
tr_ "$T/l4" -l --elf "$V/namesv" -f 'mycrate::*' --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert sorted(s["function"] for s in d["sites"]) == ["mycrate::bar", "mycrate::foo"], d' "$T/l4" 2>/dev/null &&
	ok list-elf-json || fail list-elf-json "rc=$rc $(cat "$T/l4")"
tr_ "$T/l5" -l --elf "$V/cxxv" -Z -f no_such_fn_zz
[ $rc -eq 1 ] && grep -q 'nothing to list' "$T/l5" && ok list-nothing-error ||
	fail list-nothing-error "rc=$rc $(cat "$T/l5")"
tr_ "$T/l6" -l --elf /etc/passwd -f x
[ $rc -eq 1 ] && grep -q 'not an ELF object' "$T/l6" && ok list-elf-not-elf ||
	fail list-elf-not-elf "rc=$rc $(cat "$T/l6")"
tr_ "$T/l7" --elf "$V/cxxv" -f x
[ $rc -eq 2 ] && ok elf-needs-l || fail elf-needs-l "rc=$rc $(cat "$T/l7")"
tr_ "$T/l8" -l --elf "$V/cxxv" -p "$vpid" -f x
[ $rc -eq 2 ] && ok elf-no-process || fail elf-no-process "rc=$rc $(cat "$T/l8")"

exec 5>&- 6<&-
summary
