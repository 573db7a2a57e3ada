#!/usr/bin/env bash
# tests/cli/sym.sh - `dtproc ldd`, `dtproc sym` and the milestones and
# object lines of `dtproc watch`, on real processes.  Victims print their
# own addresses; synchronization is through FIFOs and their ready lines,
# never sleeps.
. "$(dirname "$0")/lib.sh"

V=$BUILD/tests/victims
LIBDYN=$(cd "$BUILD/tests/libs" && pwd)/libdyn.so
LIBSYM=$(cd "$BUILD/tests/libs" && pwd)/libsymlib.so
fifo_setup sym

# finish: the go line; the victim must exit 0.
finish() {
	local rc
	echo g >&7
	wait "$vpid"
	rc=$?
	exec 7>&- 8<&-
	[ "$rc" -eq 0 ] || fail "victim-exit-$vpid" "victim exited $rc"
}

# expect NAME FILE PATTERN: FILE has a line matching the extended regex.
expect() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else fail "$1" "no '$3' in: $(head -c 800 "$2")"; fi
}

# ---- ldd: the executable first, then its libraries, libc, ld.so
start "$V/symv"
exe=$(readlink -f "$V/symv")
main=$(field main "$ready")
func=$(field func "$ready")
mal=$(field malloc "$ready")
dt ldd $vpid >"$T/ldd" 2>"$T/ldd.err"; rc=$?
[ $rc -eq 0 ] && ok ldd-exit-0 || fail ldd-exit-0 "rc=$rc $(cat "$T/ldd.err")"
head -n 1 "$T/ldd" | grep -qx "$vpid:	$exe" && ok ldd-header || fail ldd-header "$(head -n 1 "$T/ldd")"
sed -n 2p "$T/ldd" | grep -Eq "^LM0	0x[0-9a-f]+	$exe\$" && ok ldd-executable-first \
	|| fail ldd-executable-first "$(cat "$T/ldd")"
lsym=$(grep -n "	$LIBSYM\$" "$T/ldd" | cut -d: -f1)
lc=$(grep -n '/libc\.so\.6$' "$T/ldd" | cut -d: -f1)
lld=$(grep -n '/ld-linux-x86-64\.so\.2$' "$T/ldd" | cut -d: -f1)
[ -n "$lsym" ] && [ -n "$lc" ] && [ -n "$lld" ] && [ "$lsym" -lt "$lc" ] && ok ldd-libraries-in-order \
	|| fail ldd-libraries-in-order "libsymlib=$lsym libc=$lc ld.so=$lld: $(cat "$T/ldd")"
n=$(grep -c '^LM' "$T/ldd")
[ "$n" -eq 4 ] && ok ldd-no-vdso-no-extras || fail ldd-no-vdso-no-extras "$n objects: $(cat "$T/ldd")"
state=$(awk '/^State/ {print $2}' /proc/$vpid/status)
tracer=$(awk '/^TracerPid/ {print $2}' /proc/$vpid/status)
[ "$tracer" = 0 ] && [ "$state" != t ] && ok ldd-leaves-it-alone || fail ldd-leaves-it-alone "state=$state tracer=$tracer"

dt ldd $vpid --json >"$T/lddj" 2>&1; rc=$?
if [ $rc -eq 0 ] && python3 - "$T/lddj" "$vpid" "$exe" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pid"] == int(sys.argv[2]), d
objs = d["objects"]
assert objs[0]["path"] == sys.argv[3] and objs[0]["lmid"] == 0, objs[0]
assert any(o["path"].endswith("/libc.so.6") for o in objs), objs
for o in objs:
    int(o["base"], 16); int(o["bias"], 16)
    assert o["lmid"] == 0, o
EOF
then ok ldd-json-valid; else fail ldd-json-valid "rc=$rc $(cat "$T/lddj")"; fi

# ---- sym: by name, by address, round trips
dt sym $vpid 'a.out`main' symv_func 'libc`malloc' >"$T/s1" 2>"$T/s1.err"; rc=$?
[ $rc -eq 0 ] && ok sym-exit-0 || fail sym-exit-0 "rc=$rc $(cat "$T/s1.err")"
[ "$(sed -n 1p "$T/s1" | cut -f1,2)" = "$main	symv\`main" ] && ok sym-name-main \
	|| fail sym-name-main "want $main: $(cat "$T/s1")"
sed -n 1p "$T/s1" | grep -Eq '	size [1-9][0-9]*$' && ok sym-name-size || fail sym-name-size "$(sed -n 1p "$T/s1")"
[ "$(sed -n 2p "$T/s1" | cut -f1,2)" = "$func	symv\`symv_func" ] && ok sym-name-unqualified \
	|| fail sym-name-unqualified "want $func: $(cat "$T/s1")"
[ "$(sed -n 3p "$T/s1" | cut -f1,2)" = "$mal	libc.so.6\`malloc" ] && ok sym-name-libc \
	|| fail sym-name-libc "want $mal: $(cat "$T/s1")"

addr=$(printf '%#x' $((func + 0x12)))
dt sym $vpid "$func" "$addr" "$main" >"$T/s2" 2>&1; rc=$?
printf '%s\tsymv`symv_func\n%s\tsymv`symv_func+0x12\n%s\tsymv`main\n' "$func" "$addr" "$main" >"$T/s2.want"
[ $rc -eq 0 ] && cmp -s "$T/s2" "$T/s2.want" && ok sym-address-roundtrip \
	|| fail sym-address-roundtrip "rc=$rc got: $(cat "$T/s2") want: $(cat "$T/s2.want")"
# an address no symbol covers (the executable's ELF header, at its base)
# is named as ustack() names it, object`0xADDRESS: never object`0x0
ehdr=$(field ehdr "$ready")
dt sym $vpid "$ehdr" >"$T/sb" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(cut -f2 "$T/sb")" = "symv\`$ehdr" ] && ok sym-no-symbol-ustack-form \
	|| fail sym-no-symbol-ustack-form "rc=$rc want symv\`$ehdr: $(cat "$T/sb")"
dt sym $vpid $((func)) >"$T/s3" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(cut -f2 "$T/s3")" = 'symv`symv_func' ] && ok sym-address-decimal \
	|| fail sym-address-decimal "rc=$rc $(cat "$T/s3")"
# every name the first lookup printed resolves back to its own address
bad=0
while IFS=$'\t' read -r a name _; do
	back=$(dt sym $vpid "$name" | cut -f1)
	[ "$back" = "$a" ] || { bad=1; echo "# $name: $a -> $back"; }
done <"$T/s1"
[ $bad -eq 0 ] && ok sym-name-address-name || fail sym-name-address-name "see above"

# ---- errors: exit 1, the pid and the culprit named on stderr
dt sym $vpid 'nosuchobj`malloc' >"$T/e1" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "pid $vpid" "$T/e1" && grep -q nosuchobj "$T/e1" && ok sym-error-no-object \
	|| fail sym-error-no-object "rc=$rc $(cat "$T/e1")"
dt sym $vpid 'libc`no_such_symbol_xyz' >"$T/e2" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "pid $vpid" "$T/e2" && grep -q no_such_symbol_xyz "$T/e2" && ok sym-error-no-symbol \
	|| fail sym-error-no-symbol "rc=$rc $(cat "$T/e2")"
dt sym $vpid 0x10 >"$T/e3" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "pid $vpid: address 0x10 is not mapped" "$T/e3" && ok sym-error-unmapped \
	|| fail sym-error-unmapped "rc=$rc $(cat "$T/e3")"
# a bad argument does not stop the good ones
dt sym $vpid no_such_symbol_xyz 'a.out`main' >"$T/e4" 2>"$T/e4.err"; rc=$?
[ $rc -eq 1 ] && [ "$(cut -f1 "$T/e4")" = "$main" ] && grep -q no_such_symbol_xyz "$T/e4.err" \
	&& ok sym-error-others-still-resolved || fail sym-error-others-still-resolved "rc=$rc $(cat "$T/e4" "$T/e4.err")"
finish

dt sym 999999999 main >"$T/e5" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "999999999" "$T/e5" && ok sym-error-no-such-pid || fail sym-error-no-such-pid "rc=$rc $(cat "$T/e5")"
dt ldd 999999999 >"$T/e6" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "ldd: cannot read pid 999999999: no such process" "$T/e6" && ok ldd-error-no-such-pid \
	|| fail ldd-error-no-such-pid "rc=$rc $(cat "$T/e6")"
dt ldd abc >"$T/e7" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "invalid pid 'abc'" "$T/e7" && ok ldd-usage-bad-pid || fail ldd-usage-bad-pid "rc=$rc $(cat "$T/e7")"
dt sym >"$T/e8" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "usage: dtproc sym" "$T/e8" && ok sym-usage || fail sym-usage "rc=$rc $(cat "$T/e8")"

# ---- dlmopen: LM1 objects in ldd, LM1`obj`name in sym
start "$V/dl" mopen "$LIBDYN"
lm0=$(field lm0_fn "$ready")
lm1=$(field lm1_fn "$ready")
dt ldd $vpid >"$T/ldd2" 2>&1; rc=$?
grep -Eq "^LM1	0x[0-9a-f]+	$LIBDYN\$" "$T/ldd2" && grep -Eq "^LM0	0x[0-9a-f]+	$LIBDYN\$" "$T/ldd2" \
	&& ok ldd-dlmopen-lm1-library || fail ldd-dlmopen-lm1-library "rc=$rc $(cat "$T/ldd2")"
grep -Eq '^LM1	0x[0-9a-f]+	.*/libc\.so\.6$' "$T/ldd2" && ok ldd-dlmopen-lm1-libc || fail ldd-dlmopen-lm1-libc "$(cat "$T/ldd2")"
# LM0 objects come first, LM1 after
if awk -F'\t' '/^LM/ { n = substr($1, 3) + 0; if (n < last) exit 1; last = n }' "$T/ldd2"; then
	ok ldd-namespaces-in-order; else fail ldd-namespaces-in-order "$(cat "$T/ldd2")"; fi
dt ldd $vpid --json >"$T/ldd2j" 2>&1
if python3 - "$T/ldd2j" "$LIBDYN" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
lms = sorted(o["lmid"] for o in objs if o["path"] == sys.argv[2])
assert lms == [0, 1], lms
EOF
then ok ldd-json-dlmopen; else fail ldd-json-dlmopen "$(cat "$T/ldd2j")"; fi
dt sym $vpid 'LM1`libdyn.so`dyn_fn' 'libdyn.so`dyn_fn' >"$T/s4" 2>&1; rc=$?
printf '%s\tLM1`libdyn.so`dyn_fn\n%s\tlibdyn.so`dyn_fn\n' "$lm1" "$lm0" >"$T/s4.want"
[ $rc -eq 0 ] && [ "$(cut -f1,2 "$T/s4")" = "$(cat "$T/s4.want")" ] && ok sym-dlmopen-lm1 \
	|| fail sym-dlmopen-lm1 "rc=$rc got: $(cat "$T/s4") want: $(cat "$T/s4.want")"
dt sym $vpid "$lm1" >"$T/s5" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(cut -f2 "$T/s5")" = 'libdyn.so`dyn_fn' ] && ok sym-dlmopen-lm1-address \
	|| fail sym-dlmopen-lm1-address "rc=$rc $(cat "$T/s5")"
finish

# ---- a program run by invoking ld.so: still the first object
start "$V/dl" ldso "$(readlink -f "$V/symv")"
dt ldd $vpid >"$T/ldd3" 2>&1; rc=$?
sed -n 2p "$T/ldd3" | grep -Eq "^LM0	0x[0-9a-f]+	$exe\$" && ok ldd-program-run-by-ldso \
	|| fail ldd-program-run-by-ldso "rc=$rc $(cat "$T/ldd3")"
dt sym $vpid 'a.out`main' >"$T/s6" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(cut -f1,2 "$T/s6")" = "$(field main "$ready")	symv\`main" ] && ok sym-program-run-by-ldso \
	|| fail sym-program-run-by-ldso "rc=$rc $(cat "$T/s6")"
finish

# ---- watch: the milestones, then the objects of a dlopen and dlclose
dt watch -- "$V/dl" open "$LIBDYN" <<<$'g\ng\ng' >"$T/w" 2>&1; rc=$?
[ $rc -eq 0 ] && ok watch-dlopen-exit-0 || fail watch-dlopen-exit-0 "rc=$rc $(cat "$T/w")"
order=$(awk '$3 ~ /^(created|preinit|postinit|main|object-add|object-remove|exited)$/ { printf "%s ", $3 }' "$T/w")
[ "$order" = "created preinit postinit main object-add object-remove exited " ] && ok watch-milestones-in-order \
	|| fail watch-milestones-in-order "order: $order: $(cat "$T/w")"
expect watch-main-symbol "$T/w" ' main +dl`main$'
expect watch-object-add "$T/w" " object-add +$LIBDYN LM0\$"
expect watch-object-remove "$T/w" " object-remove +$LIBDYN LM0\$"
n=$(grep -c ' object-' "$T/w")
[ "$n" -eq 2 ] && ok watch-objects-exactly-two || fail watch-objects-exactly-two "$n: $(cat "$T/w")"

dt watch --json -o "$T/wj" -- "$V/dl" open "$LIBDYN" <<<$'g\ng\ng' >/dev/null; rc=$?
if [ $rc -eq 0 ] && grep '^{' "$T/wj" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
kinds = [e["event"] for e in evs]
want = ["created", "preinit", "postinit", "main", "object-add", "object-remove", "exited"]
got = [k for k in kinds if k in want]
assert got == want, kinds
adds = [e for e in evs if e["event"] == "object-add"]
assert adds[0]["path"] == sys.argv[1] and adds[0]["lmid"] == 0, adds
' "$LIBDYN"; then ok watch-json-milestones; else fail watch-json-milestones "rc=$rc $(cat "$T/wj")"; fi

# a stripped program: main found all the same, right after postinit
dt watch -- "$V/symv-stripped" <<<g >"$T/ws" 2>&1; rc=$?
order=$(awk '$3 ~ /^(preinit|postinit|main)$/ { printf "%s ", $3 }' "$T/ws")
wmain=$(grep '^ready' "$T/ws" | tr ' ' '\n' | sed -n 's/^main=//p')
# no symbol covers it: named as ustack() names it, object`0xADDRESS
[ $rc -eq 0 ] && [ "$order" = "preinit postinit main " ] && grep -Eq " main +symv-stripped\`$wmain\$" "$T/ws" \
	&& ok watch-stripped-main || fail watch-stripped-main "rc=$rc order=$order want symv-stripped\`$wmain: $(cat "$T/ws")"

# dlmopen: the new namespace's objects are LM1
dt watch -- "$V/dl" mopen "$LIBDYN" <<<g >"$T/wm" 2>&1; rc=$?
expect watch-dlmopen-lm1 "$T/wm" " object-add +$LIBDYN LM1\$"
expect watch-dlmopen-lm0 "$T/wm" " object-add +$LIBDYN LM0\$"

summary
