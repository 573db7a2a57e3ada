#!/usr/bin/env bash
# tests/cli/usdt.sh - `dtproc trace` on USDT (sys/sdt.h) probes, end to
# end: exact counts in the executable and in a dlopened library (armed
# at the dlopen), after an exec (armed again, the semaphore raised
# again), DTrace's spelling (python$target:::function-entry: provider,
# module, function and '-' for '__'), --where on a probe's arguments,
# the semaphore back to 0 after a grabbed process is let go by Ctrl-C,
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
# an unknown provider matches nothing: said in one line
printf 'q\n' >"$T/in"
trace "$T/unk" -f 'usdt:nosuch:*' -- "$V"
if grep -q "probe 'usdt:nosuch:\*' matches no USDT probe" "$T/unk.e"; then
	ok usdt_unknown_provider
else
	fail usdt_unknown_provider "rc=$rc $(cat "$T/unk.e")"
fi

# a grabbed process let go by Ctrl-C: the semaphore back to 0
start "$V"
timeout -k 5 120 "$DT" trace -p "$vpid" -f 'usdt:usdtv:gated' -o "$T/grab.t" \
	2>"$T/grab.e" &
dpid=$!
# wait for the arming: the victim reads its own semaphore (a round trip
# each, bounded; nothing else tells that dtproc has armed)
sema=0
for _ in $(seq 2000); do
	echo s >&7
	read -r line <&8
	sema=$(field gated "$line")
	[ "$sema" = 1 ] && break
done
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
