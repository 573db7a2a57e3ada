#!/usr/bin/env bash
# tests/cli/desc.sh - `dtproc trace`'s probe descriptions and --where, end
# to end: the short and DTrace forms count the same calls, entry and
# return counts are equal, offset probes fire at instruction boundaries,
# filters count what they should; every bad description, offset and
# expression is one message and the usage status (125 with a command,
# which never runs; 2 with -p, the process released untouched).
#
# Victims: probev (probe_target and friends, N calls each for "loop N";
# probe_rip is "movl rip_base(%rip),%eax" (6 bytes), "addl %edi,%eax"
# (2), ret; probe_jmp is "jmp rel32" (5), ud2 (2), "leal 1(%rdi),%eax"
# (3), ret) and wherev (known arguments).  Return and offset probes and
# filters need the library's function probes (dtproc_fprobe_add): where
# it says "not built" those checks are skipped.
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
T=$(mktemp -d /tmp/dtproc-desc.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
HEADER='        HITS  PROBE'

# trace OUT ARGS...: as tests/cli/trace.sh's: OUT.v the victim's stdout,
# OUT.e the messages, OUT.t the table, $rc.
trace() {
	local o=$1
	shift
	timeout -k 5 120 "$DT" trace "$@" >"$o.v" 2>"$o.err"
	rc=$?
	awk -v e="$o.e" -v t="$o.t" -v h="$HEADER" 'BEGIN { w = e; printf "" > e; printf "" > t }
	    $0 == h { w = t } { print > w }' "$o.err"
}

# hits OUT LABEL: the hits of the line object`LABEL (any object), or 0.
hits() {
	awk -v f="$2" 'NR > 1 { i = index($2, "`")
	    if (substr($2, i + 1) == f) n += $1 } END { print n + 0 }' "$1.t"
}

# expect NAME OUT LABEL=N...
expect() {
	local name=$1 o=$2 kv bad= got
	shift 2
	for kv in "$@"; do
		got=$(hits "$o" "${kv%=*}")
		[ "$got" = "${kv##*=}" ] || bad="$bad ${kv%=*}=$got(want ${kv##*=})"
	done
	if [ -z "$bad" ] && [ "$rc" = 0 ]; then
		ok "$name"
	else
		fail "$name" "rc=$rc$bad; $(tail -n +2 "$o.t" | tr -s ' ' | head -c 300) $(head -c 300 "$o.e")"
	fi
}

# bad_cmd NAME NEEDLE ARGS...: a usage error with a command: 125, one
# "dtproc: trace: " line holding NEEDLE (a caret line may follow for
# --where), and the command never ran (probev prints its "loop" line).
bad_cmd() {
	local name=$1 needle=$2
	shift 2
	trace "$T/b" "$@" -- "$V/probev" loop 3
	if [ "$rc" = 125 ] && head -1 "$T/b.e" | grep -q "^dtproc: trace: .*$needle" &&
	    ! grep -q '^loop' "$T/b.v"; then
		ok "$name"
	else
		fail "$name" "rc=$rc out=$(head -c 100 "$T/b.v") err=$(head -c 300 "$T/b.e")"
	fi
}

# released NAME PID: running, untraced, not stopped.
released() {
	local st tr
	st=$(awk '{ print $3 }' /proc/$2/stat 2>/dev/null)
	tr=$(awk '/^TracerPid/ { print $2 }' /proc/$2/status 2>/dev/null)
	if [ -z "$st" ]; then
		fail "$1" "pid $2 is gone"
	elif [ "$st" = t ] || [ "$st" = T ] || [ "$tr" != 0 ]; then
		fail "$1" "pid $2 state=$st TracerPid=$tr"
	else
		ok "$1"
	fi
}

# bad_grab NAME NEEDLE ARGS...: the same with -p on the busy victim: 2,
# the message, the victim released as it was.
bad_grab() {
	local name=$1 needle=$2
	shift 2
	trace "$T/g" "$@" -p "$bpid"
	if [ "$rc" = 2 ] && head -1 "$T/g.e" | grep -q "^dtproc: trace: .*$needle"; then
		ok "$name"
	else
		fail "$name" "rc=$rc err=$(head -c 300 "$T/g.e")"
	fi
	released "$name-released" "$bpid"
}

plain_out=$("$V/probev" loop 10)

# ---- entry probes, every spelling: today's mechanism, exact counts
for spec in probe_target probe_target:entry 'probev`probe_target' \
    'probev`probe_target:entry' 'pid$target:a.out:probe_target:entry' \
    'pid$target::probe_target:entry' ':probev:probe_target:entry' \
    'probev:probe_target:entry' 'pid*:a.out:probe_targ*:entry' \
    '::probe_target:entry'; do
	trace "$T/e" -f "$spec" -- "$V/probev" loop 10
	expect "entry-form $spec" "$T/e" probe_target=10
done
trace "$T/e" -f 'probe_target' -- "$V/probev" loop 10
[ "$(cat "$T/e.v")" = "$plain_out" ] && ok entry-output-unchanged ||
	fail entry-output-unchanged "$(head -c 200 "$T/e.v")"

# ---- bad descriptions: nothing runs
bad_cmd bad-empty "bad probe '': empty probe" -f ''
bad_cmd bad-ticks "more than one" -f 'a`b`c'
bad_cmd bad-no-object "empty object" -f '`foo'
bad_cmd bad-no-function "empty function" -f 'foo`'
bad_cmd bad-offset-hex "'zz' is not a hex number" -f 'probe_target+zz'
bad_cmd bad-offset-empty "not a hex number" -f 'probe_target+'
bad_cmd bad-offset-and-name "both '+OFFSET' and ':NAME'" -f 'probe_target+4:return'
bad_cmd bad-name "unknown probe name 'exit'" -f 'probe_target:exit'
bad_cmd bad-name-glob "matches neither entry nor return" -f 'probe_target:x*'
bad_cmd bad-fields "more than four" -f 'a:b:c:d:e'
bad_cmd bad-provider "provider 'syscall'" -f 'syscall::probe_target:entry'
bad_cmd bad-provider-tick "'\`' in DTrace's form" -f 'pid$target:probev`x:probe_target:entry'
bad_cmd bad-pid "provider 'pid1' names no traced process" -f 'pid1:a.out:probe_target:entry'
bad_cmd bad-percent "bad probe '%s%n+q': offset 'q'" -f '%s%n+q'

# ---- bad --where: the expression and a caret at the column
bad_cmd where-bad-paren "bad --where: expected ')' before the end at column 14" \
	-f probe_target --where 'arg0 > (3 + 4'
if [ "$(sed -n 2p "$T/b.e")" = "  arg0 > (3 + 4" ] &&
    [ "$(sed -n 3p "$T/b.e")" = "               ^" ]; then
	ok where-caret
else
	fail where-caret "$(cat "$T/b.e")"
fi
bad_cmd where-bad-assign "'=' is no operator.* at column 6" -f probe_target --where 'arg0 = 3'
bad_cmd where-bad-string "a string cannot be an operand.* at column 1" -f probe_target --where 'probe + 1'
bad_cmd where-bad-arg "arg0 to arg7 are.* at column 1" -f probe_target --where 'arg9 == 0'
bad_cmd where-empty "empty expression at column 1" -f probe_target --where ''
bad_cmd where-twice "only one --where" -f probe_target --where 1 --where 2

# ---- the same on a grabbed process: 2, released untouched
mkfifo "$T/bin" "$T/bout"
"$V/probev" busy 2 <"$T/bin" >"$T/bout" &
bpid=$!
exec 7>"$T/bin" 8<"$T/bout"
read -r word _ <&8
[ "$word" = ready ] || fail busy-ready "got '$word'"
bad_grab grab-bad-desc "more than one" -f 'a`b`c'
bad_grab grab-bad-pid "provider 'pid1' names no traced process" -f 'pid1:a.out:probe_target:entry'
bad_grab grab-bad-where "bad --where" -f probe_target --where '(('
trace "$T/l" -l -f "pid$bpid:a.out:probe_target:entry" -p "$bpid"
[ "$rc" = 0 ] && grep -q 'probev`probe_target ' "$T/l.v" && ok grab-pid-named ||
	fail grab-pid-named "rc=$rc $(head -c 300 "$T/l.v") $(head -c 300 "$T/l.e")"
released grab-pid-named-released "$bpid"

# ---- return and offset probes, filters: the library's function probes
trace "$T/f" -f probe_target:return -- "$V/probev" loop 1
if grep -q 'not built' "$T/f.e"; then
	skip fprobes "dtproc_fprobe_add is not built in this library"
	kill -TERM "$bpid"
	summary
fi

trace "$T/r" -f probe_target -f probe_target:return -- "$V/probev" loop 10
expect entry-return-equal "$T/r" probe_target=10 probe_target:return=10
[ "$(cat "$T/r.v")" = "$plain_out" ] && ok return-output-unchanged ||
	fail return-output-unchanged "$(head -c 200 "$T/r.v")"
trace "$T/r" -f 'probe_target:' -f 'pid$target:a.out:probe_other:return' -- "$V/probev" loop 10
expect empty-name-entry-and-return "$T/r" probe_target=10 \
	probe_target:return=10 probe_other:return=5
trace "$T/r" -f 'probe_t*:ret*' -- "$V/probev" loop 7
expect return-glob "$T/r" probe_target:return=7 probe_target=0

trace "$T/o" -f probe_rip+6 -f 'probev`probe_rip+0x8' -f probe_jmp+7 \
	-f 'pid$target:a.out:probe_jmp:5' -f probe_rip:0 -- "$V/probev" loop 10
expect offsets "$T/o" probe_rip+0x6=10 probe_rip+0x8=10 probe_jmp+0x7=10 \
	probe_jmp+0x5=0 probe_rip+0x0=10 probe_rip=0
[ "$(cat "$T/o.v")" = "$plain_out" ] && ok offset-output-unchanged ||
	fail offset-output-unchanged "$(head -c 200 "$T/o.v")"

# an offset inside an instruction: the library's message, nothing runs,
# a grabbed process is let go untouched
bad_cmd bad-offset-boundary "bad probe 'probe_rip+3': .*probe_rip" -f probe_rip+3
bad_cmd bad-offset-boundary-dtrace "bad probe 'pid\$target:a.out:probe_jmp:1'" \
	-f 'pid$target:a.out:probe_jmp:1'
bad_grab grab-bad-offset "bad probe 'probe_rip+3'" -f probe_rip+3

# ---- --where on real firings (wherev 10)
W=$V/wherev
trace "$T/w" -f where_add --where 'arg0 < 3' -- "$W" 10
expect where-arg "$T/w" where_add=3
trace "$T/w" -f where_add --where 'arg1 == 2 * arg0 && tid == pid' -- "$W" 10
expect where-arith "$T/w" where_add=10
trace "$T/w" -f where_name --where 'arg0 == "alpha"' -- "$W" 10
expect where-string "$T/w" where_name=3
trace "$T/w" -f where_name --where 'arg0 ~ "alpha*"' -- "$W" 10
expect where-glob "$T/w" where_name=5
trace "$T/w" -f where_add:return --where 'retval >= 15' -- "$W" 10
expect where-retval "$T/w" where_add:return=5
trace "$T/w" -f where_add: --where 'probe ~ "*:return"' -- "$W" 10
expect where-probe "$T/w" where_add:return=10 where_add=0
trace "$T/w" -f where_add: --where 'retval == 0' -- "$W" 10
expect where-retval-at-entry "$T/w" where_add:return=1 where_add=0
grep -q "warning: --where had no value at 10 firings" "$T/w.err" &&
	ok where-noval-warned || fail where-noval-warned "$(head -c 300 "$T/w.err")"
trace "$T/w" -f where_add --where 'b == 4' -- "$W" 10
if grep -q "no value" "$T/w.err"; then
	skip where-param "no DWARF parameters (dtproc_fn_params): $(head -c 200 "$T/w.err")"
else
	expect where-param "$T/w" where_add=1
	# one name, another register in each function: looked up per site
	trace "$T/w" -f where_add -f where_swap --where 'b == 4 && a < 5' \
		-- "$W" 10
	expect where-param-per-function "$T/w" where_add=1 where_swap=1
fi

kill -TERM "$bpid"
wait "$bpid"
brc=$?
[ $brc = 0 ] && ok busy-victim-unharmed || fail busy-victim-unharmed "exit $brc"
summary
