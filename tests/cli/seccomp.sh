#!/usr/bin/env bash
# tests/cli/seccomp.sh - a program whose seccomp filter kills it for mmap:
# dtproc trace must not inject its scratch area there, and still counts
# every call exactly, the program's output and status unchanged.
. "$(dirname "$0")/lib.sh"

V=$BUILD/tests/victims/seccompv
DT=$BUILD/bin/dtproc
T=$(mktemp -d "${TMPDIR:-/tmp}/dtproc-seccomp.XXXXXX")
trap 'rm -rf "$T"' EXIT

"$V" 1000 >"$T/plain" 2>&1
prc=$?
if [ $prc -eq 77 ]; then
	skip seccomp-no-injection "seccomp filters unavailable here"
	summary
fi
"$DT" trace -f seccomp_target -- "$V" 1000 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq $prc ] && grep -qx "$(cat "$T/plain")" "$T/out"; then
	ok seccomp-victim-unharmed
else
	fail seccomp-victim-unharmed "rc=$rc (want $prc) $(head -c 300 "$T/out") $(head -c 300 "$T/err")"
fi
# the report is on stderr, the program's stdout its own
if grep -Eq '^ +1000  seccompv`seccomp_target$' "$T/err"; then
	ok seccomp-exact
else
	fail seccomp-exact "$(head -c 300 "$T/err")"
fi
# the gate's clock refused (EPERM): --time falls back, and says so
"$DT" trace --time -f seccomp_target -- "$V" 100 clock >/dev/null 2>"$T/time"
if grep -qx "victim's clock: not read (int3 sites, or the clock unreadable in the process)" "$T/time" &&
	grep -Eq '^ +100( +[0-9]+\.[0-9]{3}){7}  seccompv`seccomp_target$' "$T/time"; then
	ok seccomp-time-fallback
else
	fail seccomp-time-fallback "$(head -c 600 "$T/time")"
fi
summary
