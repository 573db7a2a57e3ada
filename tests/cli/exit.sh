#!/usr/bin/env bash
# tests/cli/exit.sh - what dtproc(1)'s EXIT STATUS and output table
# promise, on every subcommand: reports on stderr or -o FILE, never in the
# command's stdout; 125/126/127 and 128+N with a command, 0/1/2 without;
# lost control is a failure; a set-id program is said to run without its
# privileges; -U stacks keyed by object and offset; --json valid UTF-8
# whatever bytes a path holds.  Synchronization through FIFOs and the
# victims' ready lines, never sleeps.
. "$(dirname "$0")/lib.sh"

dt() {
	timeout -k 5 120 "$BUILD/bin/dtproc" "$@"
}
DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
PLIB=$(cd "$BUILD/tests/libs" && pwd)/libprobelib.so
T=$(mktemp -d /tmp/dtproc-exit.XXXXXX)
trap 'exec 7>&- 8<&- 2>/dev/null; rm -rf "$T"; kill $(jobs -p) 2>/dev/null' EXIT
trap '' PIPE		# a victim gone early fails a check, not the script

# status NAME WANT CMD...: CMD's exit status is WANT (output in $T/o, $T/e)
status() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/o" 2>"$T/e"
	rc=$?
	[ "$rc" -eq "$want" ] && ok "$name" || fail "$name" "exit $rc, want $want: $(head -c 300 "$T/e")"
}

# utf8json NAME FILE: every line of FILE is JSON and FILE is valid UTF-8
utf8json() {
	if python3 - "$2" <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")		# strict: raises on any invalid byte
lines = [l for l in text.splitlines() if l.startswith("{")]
assert lines, "no JSON"
for l in lines:
    json.loads(l)
assert "\\ufffd" in text, "the invalid byte is not written as \\ufffd"
EOF
	then ok "$1"; else fail "$1" "$(head -c 300 "$2" | od -c | head -5 | tr -s ' ')"; fi
}

# ---- 5: the report is not written into the command's stdout
gzip -c /etc/services >"$T/plain.gz"
dt trace -f malloc -f write -- gzip -c /etc/services >"$T/s.gz" 2>"$T/s.e"; rc=$?
[ $rc -eq 0 ] && gzip -t "$T/s.gz" 2>/dev/null && cmp -s "$T/plain.gz" "$T/s.gz" &&
	ok stdout-gzip-stream-intact || fail stdout-gzip-stream-intact "rc=$rc $(gzip -t "$T/s.gz" 2>&1 | head -c 200)"
grep -q '^        HITS  PROBE$' "$T/s.e" && grep -q 'libc.so.6`write$' "$T/s.e" &&
	ok report-on-stderr || fail report-on-stderr "$(head -c 300 "$T/s.e")"
for o in -o --output; do
	dt trace $o "$T/r" -f write -- gzip -c /etc/services >"$T/s2.gz" 2>"$T/s2.e"; rc=$?
	[ $rc -eq 0 ] && cmp -s "$T/plain.gz" "$T/s2.gz" && grep -q 'libc.so.6`write$' "$T/r" &&
		! grep -q HITS "$T/s2.e" && ok "report-in-file$o" || fail "report-in-file$o" "rc=$rc $(head -c 200 "$T/r")"
done
dt trace -U -f probe_target -- "$V/probev" loop 5 >"$T/u.v" 2>"$T/u.e"
[ "$(cat "$T/u.v")" = "$("$V/probev" loop 5)" ] && grep -q 'probev`main' "$T/u.e" &&
	ok stacks-on-stderr || fail stacks-on-stderr "$(head -c 300 "$T/u.v")"
dt trace --json -o "$T/j" -f probe_target -- "$V/probev" loop 5 >"$T/j.v" 2>"$T/j.e"
[ "$(cat "$T/j.v")" = "$("$V/probev" loop 5)" ] && python3 -m json.tool "$T/j" >/dev/null &&
	ok json-in-file || fail json-in-file "$(head -c 300 "$T/j")"
dt watch -- "$V/exit_code" 3 >"$T/w.v" 2>"$T/w.e"
[ "$(cat "$T/w.v")" = "$("$V/exit_code" 3)" ] && grep -q ' exited  *status 3$' "$T/w.e" &&
	ok watch-events-on-stderr || fail watch-events-on-stderr "$(head -c 300 "$T/w.v")"
dt watch --json -o "$T/wj" -- "$V/exit_code" 3 >"$T/wj.v" 2>"$T/wj.e"
[ "$(cat "$T/wj.v")" = "$("$V/exit_code" 3)" ] && [ ! -s "$T/wj.e" ] && grep -q '"event":"exited"' "$T/wj" &&
	ok watch-events-in-file || fail watch-events-in-file "$(head -c 300 "$T/wj.e")"
# a report that cannot be written: nothing is started, dtproc's failure
status output-unwritable 125 "$DT" trace -o "$T/nodir/r" -f main -- touch "$T/ran"
[ ! -e "$T/ran" ] && grep -q "nodir/r" "$T/e" && ok output-unwritable-starts-nothing ||
	fail output-unwritable-starts-nothing "$(cat "$T/e")"

# ---- 16: the exit statuses, with a command and without
status exit-command-status 7 "$DT" trace -f main -- "$V/exit_code" 7
status exit-command-signal 143 "$DT" watch -- "$V/exit_code" sig15
status exit-not-found 127 "$DT" trace -f main -- "$T/no-such-program"
status exit-watch-not-found 127 "$DT" watch -c "$T/no-such-program"
printf 'text\n' >"$T/text"; chmod 644 "$T/text"
status exit-not-executable 126 "$DT" trace -f main -- "$T/text"
status exit-directory 126 "$DT" watch -- "$T"
status exit-usage-with-command 125 "$DT" trace -f 'a`b`c' -- "$V/exit_code" 0
status exit-bad-option-with-command 125 "$DT" trace --no-such-option -f main -- "$V/exit_code" 0
status exit-watch-bad-option-with-command 125 "$DT" watch --no-such-option -- "$V/exit_code" 0
status exit-usage-without-command 2 "$DT" trace -f 'a`b`c' -p 1
status exit-no-target 2 "$DT" trace -f main
status exit-grab-failure 1 "$DT" trace -f main -p 999999999
status exit-watch-grab-failure 1 "$DT" watch -p 999999999
status exit-ldd-failure 1 "$DT" ldd 999999999
status exit-stack-failure 1 "$DT" stack 999999999
status exit-stack-usage 2 "$DT" stack abc
status exit-sym-usage 2 "$DT" sym
# -d ended the command: timeout(1)'s 124, never its status nor 0
status exit-d-ended-command 124 "$DT" trace -d 0.1 -Z -f main -- sleep 30
# 13: killed by a signal before its exec (past the kernel's point of no
# return: an ELF whose only segment lies beyond the address space): the
# shell's 128+N, and said so
python3 - "$T/badelf" <<'EOF'
import struct, sys
ehdr = struct.pack('<16sHHIQQQIHHHHHH', b'\x7fELF\x02\x01\x01' + b'\0' * 9,
    2, 62, 1, 0xfffff00000001000, 64, 0, 0, 64, 56, 1, 0, 0, 0)
phdr = struct.pack('<IIQQQQQQ', 1, 5, 0, 0xfffff00000000000,
    0xfffff00000000000, 0x1000, 0x1000, 0x1000)
open(sys.argv[1], 'wb').write((ehdr + phdr).ljust(0x1000, b'\0'))
EOF
chmod 755 "$T/badelf"
src=$(sh -c "'$T/badelf'; echo \$?" 2>/dev/null)
if [ $src -gt 128 ]; then
	status exit-signal-before-exec $src "$DT" trace -f main -- "$T/badelf"
	grep -q "died from signal $((src - 128)) before its exec" "$T/e" && ok exit-signal-before-exec-said ||
		fail exit-signal-before-exec-said "$(cat "$T/e")"
	status exit-watch-signal-before-exec $src "$DT" watch -- "$T/badelf"
else
	skip exit-signal-before-exec "this kernel runs the bad ELF to exit $src"
fi

# ---- 10: silently accepted options are errors or documented
status usage-s-with-p 2 "$DT" trace -s main -f main -p 1
grep -q -- "-s applies to a command" "$T/e" && ok usage-s-with-p-said || fail usage-s-with-p-said "$(cat "$T/e")"
status usage-watch-s-with-p 2 "$DT" watch -s preinit -p 1
status usage-repeated-p 2 "$DT" watch -p 1 -p 2
grep -q "only one -p" "$T/e" && ok usage-repeated-p-said || fail usage-repeated-p-said "$(cat "$T/e")"
status usage-watch-repeated-p 2 "$DT" watch -p 1 -p 1
for d in 0x10 1e3 5x inf nan -1 '' . ' 5'; do
	status "usage-d-'$d'" 2 "$DT" trace -d "$d" -f main -p 999999999
	grep -q -- "-d: '$d' is not a decimal number of seconds" "$T/e" && ok "usage-d-'$d'-said" ||
		fail "usage-d-'$d'-said" "$(cat "$T/e")"
done
for d in 2 0.5 .5 5.; do
	status "d-$d-accepted" 1 "$DT" trace -d "$d" -f main -p 999999999
done
"$DT" trace --help >"$T/h"
grep -q -- '--folded *implies -U' "$T/h" && ok folded-implies-U-help || fail folded-implies-U-help "$(grep -A1 -- --folded "$T/h")"
MAN=$(dirname "$0")/../../man/dtproc.1
sed -n '/^\.B \\-\\-folded$/,/^\.TP$/p' "$MAN" | grep -q 'Implies' && ok folded-implies-U-man ||
	fail folded-implies-U-man "dtproc.1 does not say --folded implies -U"
dt trace --folded -f probe_target -- "$V/probev" loop 5 >/dev/null 2>"$T/f"
grep -Eq '^probev`_start[+0-9a-fx]*;.*probev`probe_target 5$' "$T/f" && ok folded-alone-stacks || fail folded-alone-stacks "$(cat "$T/f")"

# ---- 9: -U stacks keyed by object and offset: a dlopen/dlclose loop's
# sites (one per load) give one stack with the full count
printf 'g\ng\n' >"$T/go2"
dt trace -U -Z -f 'libprobelib*`*' -- "$V/dl" churn 100 "$PLIB" <"$T/go2" >/dev/null 2>"$T/c"; rc=$?
# per probe line: its stacks' counts
bad=$(awk '/^ +[0-9]+  /{ p = $2; next } /^ +[0-9]+$/ { if ($1 != 100) b = b " " p "=" $1; n[p]++ }
	END { for (p in n) if (n[p] != 1) b = b " " p ":" n[p] "stacks"; print b }' "$T/c")
lines=$(grep -Ec '^ +100  libprobelib.so`' "$T/c")
[ $rc -eq 0 ] && [ -z "$bad" ] && [ "$lines" -ge 1 ] && ok ustack-dlopen-loop-one-stack ||
	fail ustack-dlopen-loop-one-stack "rc=$rc lines=$lines:$bad $(head -c 300 "$T/c")"
dt trace --folded -Z -f 'libprobelib*`*' -- "$V/dl" churn 100 "$PLIB" <"$T/go2" >/dev/null 2>"$T/cf"
[ "$(grep -c ' 100$' "$T/cf")" = "$lines" ] && ! grep -q ' 1$' "$T/cf" && ok folded-dlopen-loop-one-line ||
	fail folded-dlopen-loop-one-line "$(head -c 300 "$T/cf")"
dt trace -U -Z --json -o "$T/cj" -f 'libprobelib*`*' -- "$V/dl" churn 100 "$PLIB" <"$T/go2" >/dev/null 2>&1
python3 - "$T/cj" <<'EOF' && ok json-dlopen-loop-one-stack || fail json-dlopen-loop-one-stack "$(head -c 300 "$T/cj")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["probes"], d
for p in d["probes"]:
    assert [s["hits"] for s in p["stacks"]] == [100], p
EOF

# ---- 13: --json is valid UTF-8 whatever bytes a path holds
BAD=$T/prog$'\xff'x
cp "$V/exit_code" "$BAD"
dt watch --json -- "$BAD" 0 >/dev/null 2>"$T/uw"
utf8json json-utf8-watch "$T/uw"
dt trace --json -f main -- "$BAD" 0 >/dev/null 2>"$T/ut"
utf8json json-utf8-trace "$T/ut"
LBAD=$T/lib$'\xfe'.so
cp "$BUILD/tests/libs/libdyn.so" "$LBAD"
start "$V/dl" open "$LBAD"
echo g >&7
read -r _ <&8		# opened ...
dt ldd --json $vpid >"$T/ul" 2>&1
utf8json json-utf8-ldd "$T/ul"
echo g >&7; echo g >&7
wait $vpid
exec 7>&- 8<&-
SBAD=$T/spin$'\xfd'
cp "$V/spin" "$SBAD"
start "$SBAD"
dt stack --json $vpid >"$T/us" 2>&1
utf8json json-utf8-stack "$T/us"
echo g >&7
wait $vpid
exec 7>&- 8<&-

# ---- 13: a read-only look is not a grab
status ldd-cannot-read 1 "$DT" ldd 999999999
grep -q '^dtproc: ldd: cannot read pid 999999999: no such process$' "$T/e" && ! grep -q 'grab' "$T/e" &&
	ok ldd-cannot-read-said || fail ldd-cannot-read-said "$(cat "$T/e")"
status sym-cannot-read 1 "$DT" sym 999999999 main
grep -q '^dtproc: sym: cannot read pid 999999999: no such process$' "$T/e" && ! grep -q 'grab' "$T/e" &&
	ok sym-cannot-read-said || fail sym-cannot-read-said "$(cat "$T/e")"

# ---- 6: lost control fails; a set-id program runs without privileges
# (needs a user to drop to)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody_setup
	cp /bin/true "$X/exeonly" && chmod 0711 "$X/exeonly"
	cp "$V/exit_code" "$X/suid" && chown 0:0 "$X/suid" && chmod 4755 "$X/suid"
	LOSTMSG="failed to control pid [0-9]*: process exec'd set-id or unobservable program"
	nobody "$X/bin/dtproc" trace -f malloc -- /bin/sh -c "exec $X/exeonly" >"$T/l1" 2>&1; rc=$?
	[ $rc -eq 125 ] && grep -q "^dtproc: $LOSTMSG\$" "$T/l1" && ok lost-trace-fails ||
		fail lost-trace-fails "rc=$rc $(cat "$T/l1")"
	nobody "$X/bin/dtproc" watch -- /bin/sh -c "exec $X/exeonly" >"$T/l2" 2>&1; rc=$?
	[ $rc -eq 125 ] && grep -q "^dtproc: $LOSTMSG\$" "$T/l2" && grep -q ' lost ' "$T/l2" &&
		ok lost-watch-fails || fail lost-watch-fails "rc=$rc $(cat "$T/l2")"
	SETID="^dtproc: $X/suid is set-id: it runs without its privileges while traced\$"
	nobody "$X/bin/dtproc" watch -- "$X/suid" 3 >"$T/s1" 2>&1; rc=$?
	[ $rc -eq 3 ] && grep -q "$SETID" "$T/s1" && ok setid-created-said || fail setid-created-said "rc=$rc $(cat "$T/s1")"
	nobody "$X/bin/dtproc" trace -Z -f main -- /bin/sh -c "exec $X/suid 4" >"$T/s2" 2>&1; rc=$?
	[ $rc -eq 4 ] && [ "$(grep -c "$SETID" "$T/s2")" = 1 ] && ok setid-exec-said || fail setid-exec-said "rc=$rc $(cat "$T/s2")"
	# with CAP_SYS_PTRACE the kernel grants the privileges: nothing to say
	dt watch -- "$X/suid" 3 >"$T/s3" 2>&1
	! grep -q "is set-id" "$T/s3" && ok setid-privileged-silent || fail setid-privileged-silent "$(cat "$T/s3")"
	rm -rf "$X"
else
	for n in lost-trace-fails lost-watch-fails setid-created-said setid-exec-said setid-privileged-silent; do
		skip $n "needs root to drop to uid 65534 (setpriv)"
	done
fi

summary
