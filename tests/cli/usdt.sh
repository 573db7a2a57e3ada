#!/usr/bin/env bash
# tests/cli/usdt.sh - `dtproc trace` on USDT (sys/sdt.h) probes, end to
# end: exact counts in the executable and in a dlopened library (armed
# at the dlopen), after an exec (armed again, the semaphore raised
# again), DTrace's spelling (python$target:::function-entry: provider,
# module, function and '-' for '__'), --where on a probe's arguments,
# the semaphore back to 0 after a grabbed process is let go by Ctrl-C,
# -e's lines with the probes' arguments, -l and -l --elf listing the
# probes (semaphores, argument specs), strict matching (-Z), -F's
# children and several -p, each armed with its semaphore raised,
# counts equal to the kernel's (perf probe on the same notes, one after
# the other), python3.11's own probes, and bad input.
#
# Victim: usdtv ("r N": N rounds of plain, small, slow, gated, bad, and
# the library's tick, gtick once "o LIB" opened it; "s" prints the
# semaphores; "x" execs itself; see tests/victims/usdtv.c).
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims/usdtv
LIB=$(realpath "$BUILD/tests/libs/libusdtlib.so")
fifo_setup usdt
HEADER='        HITS  PROBE'

# trace OUT ARGS...: OUT.v the victim's stdout, OUT.e the messages, OUT.t
# the table, $rc; the victim's stdin is $T/in.
trace() {
	local o=$1
	shift
	timeout -k 5 120 "$DT" trace "$@" <"$T/in" >"$o.v" 2>"$o.err"
	rc=$?
	awk -v e="$o.e" -v t="$o.t" -v h="$HEADER" 'BEGIN { w = e; printf "" > e; printf "" > t }
	    $0 == h { w = t } { print > w }' "$o.err"
}

# hits OUT LABEL: the hits of the line object`LABEL, or 0.
hits() {
	awk -v f="$2" 'NR > 1 { i = index($2, "`")
	    if (substr($2, i + 1) == f) n += $1 } END { print n + 0 }' "$1.t"
}

# expect NAME OUT LABEL=N...: those counts, status 0, and no other line.
expect() {
	local name=$1 o=$2 kv bad= got
	shift 2
	for kv in "$@"; do
		got=$(hits "$o" "${kv%=*}")
		[ "$got" = "${kv##*=}" ] || bad="$bad ${kv%=*}=$got(want ${kv##*=})"
	done
	[ "$(($(wc -l <"$o.t") - 1))" = $# ] || bad="$bad lines=$(($(wc -l <"$o.t") - 1))(want $#)"
	if [ -z "$bad" ] && [ "$rc" = 0 ]; then
		ok "$name"
	else
		fail "$name" "rc=$rc$bad; $(tail -n +2 "$o.t" | tr -s ' ' | head -c 300) $(head -c 300 "$o.e")"
	fi
}

P5='usdtv:plain=5 usdtv:small=5 usdtv:slow=5 usdtv:gated=5 usdtv:bad=5'

printf 'r 5\nq\n' >"$T/in"
trace "$T/all" -f 'usdt:usdtv:*' -- "$V"
# shellcheck disable=SC2086
expect usdt_counts "$T/all" $P5
grep -q 'setups=5 ' "$T/all.v" && ok usdt_sema_raised ||
	fail usdt_sema_raised "the gated probe's set-up ran $(grep done "$T/all.v")"

# the object`provider:name form, and DTrace's
trace "$T/obj" -f 'usdt:usdtv`usdt?:g*' -f 'usdt:a.out`usdtv:plain' -- "$V"
expect usdt_obj_glob "$T/obj" usdtv:gated=5 usdtv:plain=5
trace "$T/dt" -f 'usdtv$target:::gated' -f 'usdtv*:usdtv::small' -- "$V"
expect usdt_dtrace_form "$T/dt" usdtv:gated=5 usdtv:small=5
# the function field: the probes inside bad() only
trace "$T/fn" -f 'usdtv$target::bad:' -- "$V"
expect usdt_dtrace_function "$T/fn" usdtv:bad=5

# a dlopened library's, armed at the dlopen; and --where on arguments
printf 'o %s\nr 4\nq\n' "$LIB" >"$T/in"
trace "$T/lib" -Z -f 'usdt:libusdtlib*`*:*' -- "$V"
expect usdt_dlopen "$T/lib" usdtlib:tick=4 usdtlib:gtick=4
grep -q 'lsetups=4$' "$T/lib.v" && ok usdt_dlopen_sema ||
	fail usdt_dlopen_sema "$(grep done "$T/lib.v")"
trace "$T/wh" -Z -f 'usdt:usdtlib:tick' -f 'usdt:usdtv:small' --where \
	'arg0 == 2 || arg0 == 201 || arg1 == -3' -- "$V"
expect usdt_where "$T/wh" usdtlib:tick=1 usdtv:small=2

# exec: the new image's probes armed again, its semaphore raised again
printf 'r 2\nx\nr 3\nq\n' >"$T/in"
trace "$T/ex" -f 'usdt:usdtv:gated' -f 'usdt:usdtv:slow' -- "$V"
expect usdt_exec "$T/ex" usdtv:gated=5 usdtv:slow=5
grep -q 'setups=3 ' "$T/ex.v" && ok usdt_exec_sema ||
	fail usdt_exec_sema "$(grep done "$T/ex.v" | tr '\n' ' ')"

# a bad note: counted; under --where its arguments are one warning line
printf 'r 3\nq\n' >"$T/in"
trace "$T/bad" -f 'usdt:usdtv:bad' --where 'arg0 >= 0' -- "$V"
if [ "$(grep -c 'cannot be read' "$T/bad.e")" = 1 ] &&
    grep -q 'usdtv`usdtv:bad: .*xmm0' "$T/bad.e"; then
	ok usdt_bad_note
else
	fail usdt_bad_note "$(cat "$T/bad.e")"
fi

# bad descriptions: one line, the usage status, the command never run
bad() {
	local name=$1 needle=$2
	shift 2
	trace "$T/b" "$@" -- "$V"
	if [ "$rc" = 125 ] && [ "$(wc -l <"$T/b.e")" = 1 ] &&
	    grep -q "$needle" "$T/b.e" && ! grep -q ready "$T/b.v"; then
		ok "$name"
	else
		fail "$name" "rc=$rc $(cat "$T/b.e")"
	fi
}
bad usdt_bad_form 'more than PROVIDER:NAME' -f 'usdt:a:b:c'
bad usdt_bad_obj 'bad object' -f 'usdt:`a:b'
bad usdt_bad_pid 'names no traced process' -f 'usdtv1:::gated'
# strict matching: an unknown provider matches nothing, an error in one
# line, the command never run; with -Z a warning, and the command runs
printf 'r 1\nq\n' >"$T/in"
trace "$T/unk" -f 'usdt:nosuch:*' -f 'usdt:usdtv:plain' -- "$V"
if [ "$rc" = 125 ] && [ "$(wc -l <"$T/unk.e")" = 1 ] &&
    grep -q "trace: probe 'usdt:nosuch:\*' matches no USDT probe in pid [0-9]* (-Z allows it)" "$T/unk.e" &&
    ! grep -q ready "$T/unk.v"; then
	ok usdt_strict_nomatch
else
	fail usdt_strict_nomatch "rc=$rc $(cat "$T/unk.e")"
fi
trace "$T/unkz" -Z -f 'usdt:nosuch:*' -f 'usdt:usdtv:plain' -- "$V"
if grep -q "warning: probe 'usdt:nosuch:\*' matches no USDT probe" "$T/unkz.e"; then
	expect usdt_strict_z "$T/unkz" usdtv:plain=1
else
	fail usdt_strict_z "rc=$rc $(cat "$T/unkz.e")"
fi
# DTrace's form likewise
trace "$T/unk2" -f 'nosuch$target:::x' -- "$V"
[ "$rc" = 125 ] && grep -q "matches no USDT probe" "$T/unk2.e" &&
	ok usdt_strict_dtrace_form || fail usdt_strict_dtrace_form "rc=$rc $(cat "$T/unk2.e")"

# -e: a line per firing with the probe's arguments (a char * as its
# text), inside a traced function's call one level deeper; --json's
printf 'r 2\nq\n' >"$T/in"
trace "$T/ev" -e -f 'usdt:usdtv:plain' -f 'usdt:usdtv:small' \
	-f 'a.out`slow' -f 'usdt:usdtv:slow' -f 'usdt:usdtv:bad' -- "$V"
grep -- ' -- \| -> \| <- ' "$T/ev.e" | sed 's/^ *[0-9.]* *[0-9]* *[0-9]*  //' \
	>"$T/ev.l"
cat >"$T/ev.want" <<'EOF'
-- usdtv`usdtv:plain(arg0=0, arg1=1099511627776, arg2="hello", arg3=5, arg4=3298534883328, arg5=0)
-- usdtv`usdtv:small(arg0=200, arg1=0, arg2=-1)
-> usdtv`slow(i=0, l=-7)
  -- usdtv`usdtv:slow(arg0=0, arg1=-7)
<- usdtv`slow
-- usdtv`usdtv:plain(arg0=1, arg1=1099511627777, arg2="hello", arg3=5, arg4=3298534883331, arg5=101)
-- usdtv`usdtv:small(arg0=201, arg1=-1, arg2=-1)
-> usdtv`slow(i=1, l=-7)
  -- usdtv`usdtv:slow(arg0=1, arg1=-6)
<- usdtv`slow
EOF
if [ "$rc" = 0 ] && grep -v usdtv:bad "$T/ev.l" | sed 's/  ([0-9.]* us)$//' |
    diff -u "$T/ev.want" - >"$T/ev.diff" &&
    [ "$(grep -c 'usdtv:bad(<.*xmm0.*>)$' "$T/ev.l")" = 2 ] &&
    grep -q ' 2  usdtv`usdtv:plain$' "$T/ev.t"; then
	ok usdt_events
else
	fail usdt_events "rc=$rc $(cat "$T/ev.diff") $(grep bad "$T/ev.l")"
fi
trace "$T/evj" -e --json -f 'usdt:usdtv:plain' -- "$V"
if [ "$rc" = 0 ] && python3 - "$T/evj.err" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"time"')]
assert len(ev) == 2, ev
for i, e in enumerate(ev):
    assert e["kind"] == "usdt" and e["object"] == "usdtv", e
    assert e["probe"] == "usdtv:plain" and e["depth"] == 1, e
    v = [a["value"] for a in e["args"]]
    assert [a["name"] for a in e["args"]] == ["arg%d" % k for k in range(6)], e
    assert v[0] == str(i) and v[2] == '"hello"' and v[3] == "5", v
EOF
then ok usdt_events_json; else fail usdt_events_json "rc=$rc $(head -c 600 "$T/evj.err")"; fi

# -l: the armed sites, then the probes' semaphores and argument specs;
# with --json a "usdt" member; -l --elf lists a file's notes, strictly
printf 'q\n' >"$T/in"
trace "$T/ls" -l -f 'usdt:usdtv:gated' -f 'usdt:usdtv:small' -- "$V"
if [ "$rc" = 0 ] && grep -q '^usdtv`usdtv:gated  *0x[0-9a-f]*  *0  trampoline$' "$T/ls.v" &&
    grep -q '^2 sites: 2 patched' "$T/ls.v" && grep -q '^USDT probes' "$T/ls.v" &&
    grep -q '^usdtv`usdtv:gated  *0x[0-9a-f]*  semaphore 0x[0-9a-f]*  -4@%ebx -4@counter(%rip)$' "$T/ls.v" &&
    grep -q '^usdtv`usdtv:small  *0x[0-9a-f]*  1@%r12b -2@%bx -4@\$-1$' "$T/ls.v" &&
    ! grep -q '^ready' "$T/ls.v" && [ ! -s "$T/ls.err" ]; then
	ok usdt_list
else
	fail usdt_list "rc=$rc $(cat "$T/ls.v" "$T/ls.err")"
fi
timeout -k 5 60 "$DT" trace -l --json -f 'usdt:usdtv:gated' -- "$V" <"$T/in" \
	>"$T/lsj" 2>&1
if python3 - "$T/lsj" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["function"] for s in d["sites"]] == ["usdtv:gated"], d
assert d["sites"][0]["name"] == "usdt", d
u = d["usdt"]
assert len(u) == 1 and u[0]["provider"] == "usdtv" and u[0]["name"] == "gated", u
assert u[0]["semaphore"] != 0 and u[0]["nargs"] == 2, u
assert u[0]["address"] == d["sites"][0]["address"], d
EOF
then ok usdt_list_json; else fail usdt_list_json "$(cat "$T/lsj")"; fi
# the file's addresses: readelf's notes, .stapsdt.base adjusted (none here)
out=$("$DT" trace -l --elf "$V" -f 'usdt:usdtv:*a*' -f main 2>&1)
rc=$?
gated=$(readelf -n "$V" | awk '/NT_STAPSDT/ { p = 1 } p && /Name: gated/ { g = 1 }
    g && /Location:/ { print $2; exit }' | tr -d ,)
if [ "$rc" = 0 ] && grep -q "^usdtv\`usdtv:gated  *$(printf '%#x' "$gated")  semaphore" <<<"$out" &&
    grep -q '^usdtv`usdtv:plain ' <<<"$out" && grep -q '^usdtv`usdtv:bad .*cannot read' <<<"$out" &&
    ! grep -q 'usdtv:slow' <<<"$out" && grep -q '^usdtv`main ' <<<"$out" &&
    grep -q '^5 sites in ' <<<"$out"; then
	ok usdt_list_elf
else
	fail usdt_list_elf "rc=$rc gated=$gated $out"
fi
"$DT" trace -l --elf "$V" --json -f 'usdt:usdtv:small' -f main >"$T/le.j" 2>&1
if python3 - "$T/le.j" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["sites"]
assert len(s) == 2 and d["sites_total"] == 2, d
assert s[0]["provider"] == "usdtv" and s[0]["name"] == "small", s
assert s[0]["args"] == "1@%r12b -2@%bx -4@$-1" and s[0]["semaphore"] == 0, s
assert s[1]["function"] == "main", s
EOF
then ok usdt_list_elf_json; else fail usdt_list_elf_json "$(cat "$T/le.j")"; fi
out=$("$DT" trace -l --elf "$V" -f 'usdt:nosuch:*' -f main 2>&1)
rc=$?
outz=$("$DT" trace -l --elf "$V" -Z -f 'usdt:nosuch:*' -f main 2>&1)
rcz=$?
if [ "$rc" = 1 ] && grep -q "trace: probe 'usdt:nosuch:\*' matches no USDT probe in .* (-Z allows it)" <<<"$out" &&
    [ "$rcz" = 0 ] && grep -q "warning: probe 'usdt:nosuch:\*' matches no USDT probe" <<<"$outz" &&
    grep -q '^1 site in ' <<<"$outz"; then
	ok usdt_list_elf_strict
else
	fail usdt_list_elf_strict "rc=$rc rcz=$rcz $out $outz"
fi

# -F: the probes armed in each child, their semaphores raised there too
printf 'r 2\nq\n' >"$T/in1"
printf 'r 3\nq\n' >"$T/in2"
: >"$T/in"
trace "$T/fo" -F -f 'usdt:usdtv:gated' -- sh -c "'$V' <'$T/in1'; '$V' <'$T/in2'"
c1=$(awk '/^pid [0-9]+ \(usdtv\):/ { n++ } n == 1 && /usdtv:gated$/ { print $1; exit }' "$T/fo.err")
c2=$(awk '/^pid [0-9]+ \(usdtv\):/ { n++ } n == 2 && /usdtv:gated$/ { print $1; exit }' "$T/fo.err")
tot=$(awk '/^all 3 processes:/ { a = 1 } a && /usdtv:gated$/ { print $1 }' "$T/fo.err")
if [ "$rc" = 0 ] && [ "$c1" = 2 ] && [ "$c2" = 3 ] && [ "$tot" = 5 ] &&
    [ "$(grep -c 'setups=[23] ' "$T/fo.v")" = 2 ]; then
	ok usdt_follow
else
	fail usdt_follow "rc=$rc c1=$c1 c2=$c2 tot=$tot $(cat "$T/fo.err") $(grep done "$T/fo.v")"
fi

# dstart ERR N ARGS...: dtproc trace ARGS -Z -f zz_ready in the
# background ($dpid), its stderr through a FIFO; back once it has warned
# N times that zz_ready matches nothing (once per process, with
# everything armed, before they run on) or ended; the rest of its stderr
# in ERR (by a cat that ends with it).
dstart() {
	local err=$1 n=$2 l
	shift 2
	rm -f "$T/derr"
	mkfifo "$T/derr"
	timeout -k 5 120 "$DT" trace "$@" -Z -f zz_ready 2>"$T/derr" &
	dpid=$!
	exec 9<"$T/derr"
	while [ "$n" -gt 0 ] && read -r l <&9; do
		case $l in
		*"'zz_ready' matches no function"*) n=$((n - 1)) ;;
		*) printf '%s\n' "$l" >>"$err.early" ;;
		esac
	done
	cat <&9 >"$err" &
	exec 9<&-
}

# a grabbed process let go by Ctrl-C: the semaphore back to 0
start "$V"
dstart "$T/grab.e" 1 -p "$vpid" -f 'usdt:usdtv:gated' -o "$T/grab.t"
# armed, so the victim reads its semaphore raised
echo s >&7
read -r line <&8
sema=$(field gated "$line")
echo 'r 3' >&7
while read -r line <&8; do case $line in done*) break ;; esac; done
kill -INT "$dpid"
wait "$dpid"
drc=$?
echo s >&7
read -r line <&8
after=$(field gated "$line")
echo 'r 1' >&7
while read -r dline <&8; do case $dline in done*) break ;; esac; done
echo q >&7
wait "$vpid"
if [ "$sema" = 1 ] && [ "$after" = 0 ] && [ "$drc" = 0 ] &&
    grep -q ' 3  usdtv`usdtv:gated' "$T/grab.t" &&
    [ "$(field setups "$dline")" = 3 ]; then
	ok usdt_grab_sigint
else
	fail usdt_grab_sigint "sema=$sema after=$after rc=$drc $(cat "$T/grab.t" "$T/grab.e") $dline"
fi

# several -p: each process's probes armed, semaphores raised, counted
# apart, lowered in both when Ctrl-C lets them go
start "$V"
vpid1=$vpid
rm -f "$T/vin2" "$T/vout2"
mkfifo "$T/vin2" "$T/vout2"
"$V" <"$T/vin2" >"$T/vout2" &
vpid2=$!
exec 5>"$T/vin2" 6<"$T/vout2"
while read -r line <&6; do case $line in ready\ *) break ;; esac; done
dstart "$T/mp.e" 2 -p "$vpid1,$vpid2" -f 'usdt:usdtv:gated' -o "$T/mp.t"
# both armed: each reads its semaphore raised
echo s >&7; read -r line <&8; s1=$(field gated "$line")
echo s >&5; read -r line <&6; s2=$(field gated "$line")
echo 'r 2' >&7
while read -r line <&8; do case $line in done*) break ;; esac; done
echo 'r 3' >&5
while read -r line <&6; do case $line in done*) break ;; esac; done
kill -INT "$dpid"
wait "$dpid"
drc=$?
echo s >&7; read -r line <&8; a1=$(field gated "$line")
echo s >&5; read -r line <&6; a2=$(field gated "$line")
echo q >&7; echo q >&5
wait "$vpid1" "$vpid2"
exec 5>&- 6<&-
c1=$(awk -v p="pid $vpid1 " 'index($0, p) == 1 { n = 1; next } /^pid|^all/ { n = 0 }
    n && /usdtv:gated$/ { print $1 }' "$T/mp.t")
c2=$(awk -v p="pid $vpid2 " 'index($0, p) == 1 { n = 1; next } /^pid|^all/ { n = 0 }
    n && /usdtv:gated$/ { print $1 }' "$T/mp.t")
if [ "$s1$s2" = 11 ] && [ "$a1$a2" = 00 ] && [ "$drc" = 0 ] &&
    [ "$c1" = 2 ] && [ "$c2" = 3 ]; then
	ok usdt_several_pids
else
	fail usdt_several_pids "sema=$s1,$s2 after=$a1,$a2 rc=$drc c=$c1,$c2 $(cat "$T/mp.t" "$T/mp.e")"
fi

# the kernel's counts on the same notes, one run after the other
printf 'o %s\nr 6\nx\nr 2\nq\n' "$LIB" >"$T/in"
# perf keeps the notes it read in $HOME/.debug, by build-id: a scratch one,
# so that another build's victim (the same build-id) is not found there
mkdir -p "$T/home"
perf() { HOME=$T/home command perf "$@"; }
if ! command -v perf >/dev/null; then
	skip usdt_perf "no perf"
elif ! { perf buildid-cache --add "$V" && perf buildid-cache --add "$LIB" &&
    perf probe -q -x "$V" -a sdt_usdtv:plain -a sdt_usdtv:gated &&
    perf probe -q -x "$LIB" -a sdt_usdtlib:tick -a sdt_usdtlib:gtick; } \
    >"$T/perf.log" 2>&1; then
	skip usdt_perf "perf cannot probe SDT notes here: $(tail -1 "$T/perf.log")"
	perf probe -q -d 'sdt_usdt*' >/dev/null 2>&1
else
	perf stat -x, -o "$T/perf.csv" -e sdt_usdtv:plain -e sdt_usdtv:gated \
		-e sdt_usdtlib:tick -e sdt_usdtlib:gtick -- "$V" <"$T/in" \
		>/dev/null 2>&1
	perf probe -q -d 'sdt_usdt*' >/dev/null 2>&1
	k() { awk -F, -v e="$1" '$3 == e { print $1 }' "$T/perf.csv"; }
	trace "$T/pf" -Z -f 'usdt:usdtv:plain' -f 'usdt:usdtv:gated' \
		-f 'usdt:usdtlib:*' -- "$V"
	kp=$(k sdt_usdtv:plain) kg=$(k sdt_usdtv:gated)
	kt=$(k sdt_usdtlib:tick) kgt=$(k sdt_usdtlib:gtick)
	if [ "$kp" = 8 ] && [ "$kg" = 8 ] && [ "$kt" = 6 ] && [ "$kgt" = 6 ]; then
		expect usdt_perf "$T/pf" "usdtv:plain=$kp" "usdtv:gated=$kg" \
			"usdtlib:tick=$kt" "usdtlib:gtick=$kgt"
	else
		fail usdt_perf "the kernel counted plain=$kp gated=$kg tick=$kt gtick=$kgt (want 8 8 6 6)"
	fi
fi

# python3.11's own probes, against the kernel's too
PY=/usr/bin/python3.11
if [ -x "$PY" ] && readelf -n "$PY" 2>/dev/null | grep -q function__entry; then
	cat >"$T/fib.py" <<'EOF'
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
print(fib(12))
EOF
	: >"$T/in"
	trace "$T/py" -f 'python$target:::function-return' --where \
		'arg1 == "fib"' -- "$PY" "$T/fib.py"
	expect usdt_python "$T/py" python:function__return=465
else
	skip usdt_python "no $PY with USDT notes"
fi

summary
