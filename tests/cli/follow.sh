#!/bin/bash
# tests/cli/follow.sh - trace -F: children of fork, vfork and exec traced
# with exact counts per process, a vfork parent unharmed, -p, --json,
# and without -F the children left alone as before; --time, --hist, -e
# and --svg per process.
. "$(dirname "$0")/lib.sh"

V=$BUILD/tests/victims
fifo_setup follow

# hits PID FILE: the fv_work hits in PID's table of a -F report
hits() {
	awk -v p="pid $1 " '
		index($0, p) == 1 { on = 1; next }
		/^pid |^all / { on = 0 }
		on && $2 ~ /`fv_work$/ { print $1 }' "$2"
}
# total FILE: the fv_work hits of the total
total() {
	awk '/^all / { on = 1; next } on && $2 ~ /`fv_work$/ { print $1 }' "$1"
}

# ---- fork workers that exec: child i calls fv_work i times, parent 10
dt trace -F -f fv_work -o "$T/ex.out" -- "$V/followv" exec 3 >"$T/ex.kids" 2>"$T/ex.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc $(head -c 200 "$T/ex.err")"
pp=$(awk '/^pid / { print $2; exit }' "$T/ex.out")
[ "$(hits "$pp" "$T/ex.out")" = 10 ] || bad="$bad parent=$(hits "$pp" "$T/ex.out")"
while read -r _ cpid i; do
	h=$(hits "$cpid" "$T/ex.out")
	[ "$h" = "$i" ] || bad="$bad child$i($cpid)=$h"
done <"$T/ex.kids"
[ "$(wc -l <"$T/ex.kids")" -eq 3 ] || bad="$bad kids=$(wc -l <"$T/ex.kids")"
[ "$(total "$T/ex.out")" = 16 ] || bad="$bad total=$(total "$T/ex.out")"
grep -q "^all 4 processes:" "$T/ex.out" || bad="$bad no-total-line"
[ -z "$bad" ] && ok follow-exec-workers || fail follow-exec-workers "$bad"

# ---- fork workers without exec: each its own count, not the parent's
dt trace -F -f fv_work -o "$T/fk.out" -- "$V/followv" fork 3 >"$T/fk.kids" 2>"$T/fk.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc"
pp=$(awk '/^pid / { print $2; exit }' "$T/fk.out")
[ "$(hits "$pp" "$T/fk.out")" = 10 ] || bad="$bad parent=$(hits "$pp" "$T/fk.out")"
while read -r _ cpid i; do
	h=$(hits "$cpid" "$T/fk.out")
	[ "$h" = "$i" ] || bad="$bad child$i($cpid)=$h"
done <"$T/fk.kids"
[ "$(total "$T/fk.out")" = 16 ] || bad="$bad total=$(total "$T/fk.out")"
[ -z "$bad" ] && ok follow-fork-workers || fail follow-fork-workers "$bad"

# ---- the issue's shell loop: three background workers of 2 calls each
DTB=$(cd "$BUILD" && pwd)/bin/dtproc
(cd "$V" && timeout -k 5 120 "$DTB" trace -F -f fv_work \
	-o "$T/sh.out" -- bash -c 'for i in 1 2 3; do ./followv work 2 & done; wait') \
	2>"$T/sh.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc $(head -c 200 "$T/sh.err")"
n=$(grep -c '^pid [0-9]* (followv):' "$T/sh.out")
[ "$n" = 3 ] || bad="$bad followv-tables=$n"
for p in $(awk '/^pid [0-9]* \(followv\):/ { print $2 }' "$T/sh.out"); do
	[ "$(hits "$p" "$T/sh.out")" = 2 ] || bad="$bad $p=$(hits "$p" "$T/sh.out")"
done
grep -q '^pid [0-9]* (bash):' "$T/sh.out" || bad="$bad no-bash-table"
[ "$(total "$T/sh.out")" = 6 ] || bad="$bad total=$(total "$T/sh.out")"
[ -z "$bad" ] && ok follow-shell-loop || fail follow-shell-loop "$bad"

# ---- vfork: the child followed once it execs; the parent unharmed
dt trace -F -f fv_work -f 'libc.so.6`getpid' -o "$T/vf.out" -- "$V/followv" vfork \
	>"$T/vf.kids" 2>"$T/vf.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc (the parent's check)"
pp=$(awk '/^pid / { print $2; exit }' "$T/vf.out")
read -r _ cpid _ <"$T/vf.kids"
[ "$(hits "$pp" "$T/vf.out")" = 15 ] || bad="$bad parent=$(hits "$pp" "$T/vf.out")"
[ "$(hits "$cpid" "$T/vf.out")" = 3 ] || bad="$bad child=$(hits "$cpid" "$T/vf.out")"
[ -z "$bad" ] && ok follow-vfork || fail follow-vfork "$bad"

# ---- without -F: the children untouched and uncounted, as before
dt trace -f fv_work -o "$T/no.out" -- "$V/followv" exec 3 >"$T/no.kids" 2>"$T/no.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc"
grep -q '^pid ' "$T/no.out" && bad="$bad per-process-tables"
h=$(awk '$2 ~ /`fv_work$/ { print $1 }' "$T/no.out")
[ "$h" = 10 ] || bad="$bad hits=$h"
[ -z "$bad" ] && ok nofollow-parent-only || fail nofollow-parent-only "$bad"

# ---- --json: one document, an object per process (pid, command, its
# hits) and the run's total; the schema of several -p too
dt trace -F --json -f fv_work -o "$T/js.out" -- "$V/followv" exec 2 >"$T/js.kids" 2>/dev/null
if python3 - "$T/js.out" "$T/js.kids" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kids = {int(l.split()[1]): int(l.split()[2]) for l in open(sys.argv[2])}
procs = d["processes"]
assert len(procs) == 3, procs
assert all(p["command"] == "followv" for p in procs), procs
got = {p["pid"]: p["total"] for p in procs}
parent = procs[0]["pid"]
assert got == {**kids, parent: 10}, (got, kids)
assert procs[0]["status"] == 0 and all("status" not in p for p in procs[1:])
assert all(p["probes"][0]["function"] == "fv_work" for p in procs), procs
assert d["total"] == 13 and d["probes"][0]["hits"] == 13, d
assert d["armed"] == sum(p["armed"] for p in procs), d
PY
then ok follow-json; else fail follow-json "$(head -c 300 "$T/js.out")"; fi

# calls NAME PID FILE: the CALLS of NAME in PID's --time table
calls() {
	awk -v p="pid $2 " -v f="$1" '
		index($0, p) == 1 { on = 1; next }
		/^pid |^all / { on = 0 }
		on && $NF ~ ("`" f "$") { print $1 }' "$3"
}
# ---- --time: a table of calls per process, exact, and the total
dt trace -F --time -f fv_work -o "$T/tm.out" -- "$V/followv" exec 3 >"$T/tm.kids" 2>"$T/tm.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc $(head -c 200 "$T/tm.err")"
pp=$(awk '/^pid / { print $2; exit }' "$T/tm.out")
[ "$(calls fv_work "$pp" "$T/tm.out")" = 10 ] || bad="$bad parent=$(calls fv_work "$pp" "$T/tm.out")"
while read -r _ cpid i; do
	h=$(calls fv_work "$cpid" "$T/tm.out")
	[ "$h" = "$i" ] || bad="$bad child$i($cpid)=$h"
done <"$T/tm.kids"
t=$(awk '/^all 4 processes:/ { on = 1; next } on && $NF ~ /`fv_work$/ { print $1 }' "$T/tm.out")
[ "$t" = 16 ] || bad="$bad all=$t"
grep -qx 'total: 16 calls in 4 processes' "$T/tm.out" || bad="$bad no-total-line"
[ -z "$bad" ] && ok follow-time || fail follow-time "$bad $(head -c 300 "$T/tm.out")"

# ---- --time --hist --json: one document, each process's calls
dt trace -F --time --hist --json -f fv_work -o "$T/tj.out" -- "$V/followv" fork 2 >"$T/tj.kids" 2>/dev/null
if python3 - "$T/tj.out" "$T/tj.kids" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kids = {int(l.split()[1]): int(l.split()[2]) for l in open(sys.argv[2])}
procs = d["processes"]
got = {p["pid"]: p["functions"][0]["calls"] for p in procs}
parent = procs[0]["pid"]
assert got == {**kids, parent: 10}, (got, kids)
assert all(sum(b["count"] for b in p["functions"][0]["hist"]) ==
    p["functions"][0]["calls"] for p in procs), procs
assert d["functions"][0]["calls"] == 13 and "calibration" in d, d
PY
then ok follow-time-json; else fail follow-time-json "$(head -c 300 "$T/tj.out")"; fi

# ---- -e: a line per firing with its process's pid, every process's
dt trace -F -e -f fv_work -o "$T/ev.out" -- "$V/followv" fork 2 >"$T/ev.kids" 2>"$T/ev.err"
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc $(head -c 200 "$T/ev.err")"
ent() { awk -v p="$1" '$2 == p && $4 == "->" && $5 ~ /`fv_work\(/' "$T/ev.out" | wc -l; }
ret() { awk -v p="$1" '$2 == p && $4 == "<-" && $5 ~ /`fv_work$/' "$T/ev.out" | wc -l; }
pp=$(awk '/^pid / { print $2; exit }' "$T/ev.out")
[ "$(ent "$pp")" = 10 ] && [ "$(ret "$pp")" = 10 ] || bad="$bad parent=$(ent "$pp")/$(ret "$pp")"
while read -r _ cpid i; do
	[ "$(ent "$cpid")" = "$i" ] && [ "$(ret "$cpid")" = "$i" ] ||
		bad="$bad child$i($cpid)=$(ent "$cpid")/$(ret "$cpid")"
done <"$T/ev.kids"
[ -z "$bad" ] && ok follow-events || fail follow-events "$bad"

# ---- -e --json: each firing's pid and the program it runs (after exec)
dt trace -F -e --json -f fv_work -o "$T/ej.out" -- "$V/followv" exec 2 >"$T/ej.kids" 2>/dev/null
if python3 - "$T/ej.out" "$T/ej.kids" <<'PY'
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"time"')]
kids = {int(l.split()[1]): int(l.split()[2]) for l in open(sys.argv[2])}
n = collections.Counter(e["pid"] for e in ev if e["kind"] == "entry")
assert all(n[p] == i for p, i in kids.items()), (n, kids)
assert sum(n.values()) == 13, n
assert all(e["command"] == "followv" for e in ev), ev[:3]
PY
then ok follow-events-json; else fail follow-events-json "$(head -c 300 "$T/ej.out")"; fi

# ---- --svg: one flame graph of every process's stacks
dt trace -F --svg "$T/fg.svg" -f fv_work -o "$T/fg.out" -- "$V/followv" fork 2 >/dev/null 2>"$T/fg.err"
rc=$?
t=$(awk '/^all 3 processes:/ { on = 1; next } on && $2 ~ /`fv_work$/ { print $1 }' "$T/fg.out")
if [ $rc -eq 0 ] && [ "$t" = 13 ] && grep -q 'fv_work' "$T/fg.svg" &&
    grep -q '13 calls' "$T/fg.svg"; then
	ok follow-svg
else
	fail follow-svg "rc=$rc all=$t $(head -c 200 "$T/fg.err")"
fi

# ---- -F is not --folded (its old short code), and -F --interval is refused
dt trace -F --folded -f fv_work -o "$T/fo.out" -- "$V/followv" exec 1 >/dev/null 2>&1
rc=$?
sum=$(awk '$NF ~ /^[0-9]+$/ && /fv_work [0-9]+$/ { s += $NF } END { print s }' "$T/fo.out")
if [ $rc -eq 0 ] && ! grep -q '^pid ' "$T/fo.out" && [ "$sum" = 11 ]; then
	ok follow-folded-total
else
	fail follow-folded-total "rc=$rc sum=$sum $(head -c 200 "$T/fo.out")"
fi
dt trace -F --interval 1 -f fv_work -- "$V/followv" work 1 >/dev/null 2>"$T/iv.err"
rc=$?
[ $rc -eq 125 ] && [ "$(wc -l <"$T/iv.err")" -ge 1 ] &&
	grep -q -- '-F excludes' "$T/iv.err" && ok follow-interval-refused ||
	fail follow-interval-refused "rc=$rc $(cat "$T/iv.err")"

# ---- -p: a grabbed process's children followed from the grab on.  The
# warning for the probe that matches nothing comes once everything is
# armed and following, just before the process is continued.
start "$V/followv" wait 2
mkfifo "$T/perr"
"$BUILD/bin/dtproc" trace -p "$vpid" -F -f fv_work -f no_such_fn_zz \
	-o "$T/p.out" 2>"$T/perr" &
dpid=$!
exec 9<"$T/perr"
read -r warn <&9
cat <&9 >"$T/p.err" &
echo g >&7
kids=$(head -n 2 <&8)
wait $dpid
rc=$?
bad=
[ $rc -eq 0 ] || bad="rc=$rc $(cat "$T/p.err")"
case $warn in *no_such_fn_zz*) ;; *) bad="$bad warn='$warn'" ;; esac
[ "$(hits "$vpid" "$T/p.out")" = 10 ] || bad="$bad parent=$(hits "$vpid" "$T/p.out")"
while read -r _ cpid i; do
	[ "$(hits "$cpid" "$T/p.out")" = "$i" ] ||
		bad="$bad child$i=$(hits "$cpid" "$T/p.out")"
done <<<"$kids"
[ -z "$bad" ] && ok follow-grabbed || fail follow-grabbed "$bad"
exec 9<&-

# ---- the hand-off window (DTPROC_TEST_PARK holds the child's new owner
# just before its seize): the child waits there asleep, not spinning;
# handed over, its park page is gone; left by a dtproc killed right
# there, it comes out by itself, whole: its mask, its handler, its
# output and its exit status as without dtproc.
# park_run NAME [mask]: start followv park under `trace -p -F` held at
# the hand-off (with mask: seized, its mask back, its registers not yet);
# sets $dpid, $cpid, $page (hex, as the maps write it) and $bad (what
# looked wrong in the window).
park_run() {
	local at=${2:+,$2} wst=S wblk=fffffffffffbfeff
	[ -n "$at" ] && { wst=t; wblk=0000000000000800; }
	start "$V/followv" park
	rm -f "$T/perr" "$T/po" "$T/pi"
	mkfifo "$T/perr" "$T/po" "$T/pi"
	exec 5<>"$T/po" 6<>"$T/pi"
	DTPROC_TEST_PARK=3,4$at "$BUILD/bin/dtproc" trace -p "$vpid" -F \
		-f fv_work -f no_such_fn_zz -o "$T/$1.out" 2>"$T/perr" \
		3>"$T/po" 4<"$T/pi" 5>&- 6>&- &
	dpid=$!
	exec 9<"$T/perr"
	read -r _ <&9		# its warning: everything armed
	cat <&9 >"$T/$1.err" &
	echo g >&7
	bad=
	hold=
	read -t 60 -r hold <&5 || bad="no hold line"
	read -r _ cpid page <<<"$hold"
	page=${page#0x}
	st=$(awk '/^State:/ { print $2 }' "/proc/$cpid/status" 2>/dev/null)
	blk=$(awk '/^SigBlk:/ { print $2 }' "/proc/$cpid/status" 2>/dev/null)
	[ "$st" = "$wst" ] || bad="$bad state=$st (want $wst)"
	[ "$blk" = "$wblk" ] || bad="$bad sigblk=$blk"
	grep -q "^$page-" "/proc/$cpid/maps" 2>/dev/null || bad="$bad no-page"
}
# park_lines N: the victims' next N lines, each within 30 s, sorted
# (parent and child print as they go), into $out
park_lines() {
	local l all=
	for _ in $(seq "$1"); do
		read -t 30 -r l <&8 || { out="$all<timeout>"; return 1; }
		all="$all$l"$'\n'
	done
	out=$(printf '%s' "$all" | sort | tr '\n' '|')
}

park_run pk
printf x >&6			# let the owner seize it
park_lines 2
case $out in
"child $cpid 1|kid mask=ok handler=ok|") ;;
*) bad="$bad lines='$out'" ;;
esac
grep -q "^$page-" "/proc/$cpid/maps" && bad="$bad page-left"
echo g >&7
park_lines 2
[ "$out" = "kid done sig=ok|reaped 7|" ] || bad="$bad end='$out'"
wait "$vpid" || bad="$bad parent-rc=$?"
wait "$dpid" || bad="$bad dtproc-rc=$?"
[ "$(hits "$cpid" "$T/pk.out")" = 3 ] || bad="$bad child-hits=$(hits "$cpid" "$T/pk.out")"
[ -z "$bad" ] && ok follow-park-handoff || fail follow-park-handoff "$bad"
exec 9<&- 5>&- 6>&-

# park_killed NAME [mask]: the same, dtproc killed in the hold: the
# child comes out of the page by itself, whole
park_killed() {
	park_run "$@"
	{ kill -9 "$dpid"; wait "$dpid"; } 2>/dev/null
	echo g >&7			# the child's own go line
	park_lines 4
	[ "$out" = "child $cpid 1|kid done sig=ok|kid mask=ok handler=ok|reaped 7|" ] ||
		bad="$bad lines='$out'"
	# reaped: the child is gone; else it is stuck (its parent waits)
	if [ -d "/proc/$cpid" ] && ! grep -q '^State:.*Z' "/proc/$cpid/status"; then
		bad="$bad child-left($(awk '/^State:/ { print $2 }' "/proc/$cpid/status"))"
		kill -9 "$cpid"
	fi
	wait "$vpid" || bad="$bad parent-rc=$?"
	exec 9<&- 5>&- 6>&-
}
park_killed pkill
[ -z "$bad" ] && ok follow-park-killed || fail follow-park-killed "$bad"
# killed between the mask given back and the registers: the child is
# still in the page, never in its own code with every signal blocked
park_killed pkmask mask
[ -z "$bad" ] && ok follow-park-killed-unpark ||
	fail follow-park-killed-unpark "$bad"

# ---- a new owner later than the park's timeout: the child came out by
# itself (its first line says so) and is traced from where it is, its
# calls before that uncounted, the page unmapped, the lateness said
DTPROC_DEBUG=1 park_run late
park_lines 1			# out by itself, its calls made: nobody let the owner go
[ "$out" = "kid mask=ok handler=ok|" ] || bad="$bad lines='$out'"
printf x >&6
park_lines 1			# its parent, after the hand-off
[ "$out" = "child $cpid 1|" ] || bad="$bad parent='$out'"
grep -q "^$page-" "/proc/$cpid/maps" && bad="$bad page-left"
echo g >&7
park_lines 2
[ "$out" = "kid done sig=ok|reaped 7|" ] || bad="$bad end='$out'"
wait "$vpid" || bad="$bad parent-rc=$?"
wait "$dpid" || bad="$bad dtproc-rc=$?"
grep -q "pid $cpid: unparked (it had gone on by itself)" "$T/late.err" ||
	bad="$bad not-said"
h=$(hits "$cpid" "$T/late.out")
[ "${h:-0}" = 0 ] || bad="$bad child-hits=$h"
[ -z "$bad" ] && ok follow-park-late || fail follow-park-late "$bad"
exec 9<&- 5>&- 6>&-

# ---- dtproc killed while a system call it injected into a followed
# child sits in its exit stop, the call's registers still in the child
# (DTPROC_TEST_INJECT holds it there): the child comes back from the
# call by itself (the resume stub), whole: its mask, its handler, its
# output and its exit status as without dtproc.  Before, it ran on into
# the trap written after the call and died of SIGTRAP.
# inject_kill K: kill dtproc at the child's Kth injected call
inject_kill() {
	local hold
	start "$V/followv" park
	rm -f "$T/perr" "$T/po" "$T/pi"
	mkfifo "$T/perr" "$T/po" "$T/pi"
	exec 5<>"$T/po" 6<>"$T/pi"
	DTPROC_TEST_INJECT=3,4 "$BUILD/bin/dtproc" trace -p "$vpid" -F \
		-f fv_work -f no_such_fn_zz -o "$T/inj.out" 2>"$T/perr" \
		3>"$T/po" 4<"$T/pi" 5>&- 6>&- &
	dpid=$!
	bad=
	n=0
	# let the parent's calls go on; kill at the child's Kth
	{
		while read -t 60 -r _ pid _ nr how <&5; do
			if [ "$pid" = "$vpid" ]; then
				printf x >&6
				continue
			fi
			n=$((n + 1))
			if [ "$n" = "$1" ]; then
				echo "$pid $nr $how" >"$T/inj.at"
				kill -9 "$dpid"
				break
			fi
			printf x >&6
		done
	} &
	hold=$!
	exec 9<"$T/perr"
	read -r _ <&9		# its warning: everything armed
	cat <&9 >/dev/null &
	echo g >&7
	{ wait "$hold"; wait "$dpid"; } 2>/dev/null
	[ -s "$T/inj.at" ] || bad="$bad no-hold"
	read -r cpid nr how <"$T/inj.at"
	[ "$how" = stub ] || bad="$bad call-$nr-not-from-the-stub"
	park_lines 2
	[ "$out" = "child $cpid 1|kid mask=ok handler=ok|" ] ||
		bad="$bad lines='$out'"
	echo g >&7 2>/dev/null
	park_lines 2
	[ "$out" = "kid done sig=ok|reaped 7|" ] || bad="$bad end='$out'"
	wait "$vpid" || bad="$bad parent-rc=$?"
	rm -f "$T/inj.at"
	exec 9<&- 5>&- 6>&-
}
# a victim dead too early must fail its check, not kill the script
trap '' PIPE
for k in 1 4 9; do
	inject_kill "$k"
	[ -z "$bad" ] && ok "follow-inject-killed-$k" ||
		fail "follow-inject-killed-$k" "$bad"
done

summary
