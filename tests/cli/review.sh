#!/usr/bin/env bash
# tests/cli/review.sh - regressions a review of the one-stop engine found,
# each against tests/victims/reviewv (see its header): the victim's own
# verdict must be the same traced as untraced, and the tracer must live.
. "$(dirname "$0")/lib.sh"

V=$BUILD/tests/victims/reviewv
DT=$BUILD/bin/dtproc
T=$(mktemp -d "${TMPDIR:-/tmp}/dtproc-review.XXXXXX")
trap 'rm -rf "$T"; [ -n "${vp:-}" ] && kill -9 $vp 2>/dev/null' EXIT

# same output and status traced as untraced (ASLR off for brk: the case
# where the heap's start is fixed right after the executable)
same() {
	local name=$1
	shift
	"$@" >"$T/plain" 2>&1
	local prc=$?
	setarch -R "$DT" trace -f 'rv_*' -- "$V" "${@: -1}" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ $rc -eq $prc ] && grep -qxF "$(head -1 "$T/plain")" "$T/out"; then
		ok "$name"
	else
		fail "$name" "rc=$rc (want $prc) out=$(head -c 200 "$T/out") err=$(head -c 200 "$T/err") plain=$(head -c 100 "$T/plain")"
	fi
}

same review-signals-in-copies setarch -R "$V" signals
same review-push-onto-guard setarch -R "$V" guard
same review-fault-address-in-copy setarch -R "$V" fpe
same review-heap-room setarch -R "$V" brk

# grab, trace and release a process that forks without end: its fork()
# must never fail because a system call of ours ran at its fork stop
mkfifo "$T/fifo"
"$V" fork >"$T/fifo" 2>&1 &
vp=$!
exec 8<"$T/fifo"
read -r word <&8
[ "$word" = ready ] || fail review-fork-ready "got '$word'"
bad=
for i in $(seq 10); do
	"$DT" trace -p $vp -f rv_work -d 0.2 >"$T/f.out" 2>"$T/f.err" ||
		{ bad="trace $i: $(head -c 200 "$T/f.err")"; break; }
	kill -0 $vp 2>/dev/null || { bad="victim gone at $i: $(tail -1 "$T/fork")"; break; }
done
kill -9 $vp 2>/dev/null
wait $vp 2>/dev/null
vp=
cat <&8 >"$T/fork"	# what it said after "ready", to its end
exec 8<&-
if [ -z "$bad" ] && ! grep -q "fork failed" "$T/fork"; then
	ok review-fork-at-release
else
	fail review-fork-at-release "$bad $(grep 'fork failed' "$T/fork")"
fi
summary
