#!/usr/bin/env bash
# tests/cli/tramp.sh - `dtproc trace` on trampoline probes: counts without
# stops equal the one-stop path's (--stop-probes), -l says how each site
# is carried and why an int3, --interval prints the hits as they come
# without stopping the victim, --json has how/why/missed, and a grabbed
# victim survives `kill -9` of dtproc with its results right.
#
# The victim is probectlv (tests/victims/probectlv.c): pc_target can be
# patched; pc_loop's loop branches 2 bytes into it, so it stays an int3.
# It is driven line by line (its answers are the synchronisation); the
# few bounded loops poll /proc or the report file.
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims
fifo_setup tramp
trap '' PIPE		# a victim that died: writes to it fail, not us

# tr_run OUT ARGS...: dtproc trace ARGS on probectlv fed by stdin; the
# victim's output in OUT.v (pids and tids left out), the report in OUT.r
# (-o), status in $rc.
tr_run() {
	local o=$1
	shift
	timeout -k 5 120 "$DT" trace -o "$o.r" "$@" -- "$V/probectlv" \
		>"$o.out" 2>"$o.e"
	rc=$?
	sed -e 's/^ready .*/ready/' -e 's/tid=[0-9]*/tid/' "$o.out" >"$o.v"
}

# hits OUT FUNC: FUNC's hits in the table of OUT.r (the last table).
hits() {
	awk -v f="$2" '/^ *HITS  PROBE$/ { n = 0; next }
	    { i = index($2, "`"); if (i && substr($2, i + 1) == f) n = $1 }
	    END { print n + 0 }' "$1.r"
}

# ---- counted without stops = the one-stop path, on both kinds of site
printf 'c 3000\nk 700\nt 500\nq\n' >"$T/in"
tr_run "$T/d" -f pc_target -f pc_loop <"$T/in"
tr_run "$T/s" --stop-probes -f pc_target -f pc_loop <"$T/in"
if [ $rc -ne 0 ]; then
	fail stop-probes-run "rc=$rc $(head -c 300 "$T/s.e")"
elif ! cmp -s "$T/d.v" "$T/s.v"; then
	fail default-vs-stop-output "$(diff "$T/d.v" "$T/s.v" | head -c 300)"
else
	d1=$(hits "$T/d" pc_target) s1=$(hits "$T/s" pc_target)
	d2=$(hits "$T/d" pc_loop) s2=$(hits "$T/s" pc_loop)
	[ "$d1" = 3500 ] && [ "$s1" = 3500 ] && [ "$d2" = 700 ] && [ "$s2" = 700 ] &&
		ok default-equals-stop-probes ||
		fail default-equals-stop-probes "pc_target $d1/$s1 pc_loop $d2/$s2 (want 3500, 700)"
fi

# ---- -l: a patched function, an int3 one with its reason, the summary
timeout -k 5 60 "$DT" trace -l -f pc_target -f pc_loop -- "$V/probectlv" \
	>"$T/l" 2>"$T/l.e" </dev/null
rc=$?
lt=$(grep '`pc_target ' "$T/l")
ll=$(grep '`pc_loop ' "$T/l")
if [ $rc -ne 0 ]; then
	fail list-status "rc=$rc $(head -c 300 "$T/l.e")"
elif [[ $lt != *" trampoline" ]]; then
	fail list-patched "pc_target: '$lt'"
elif [[ ! $ll =~ \ int3:\ [a-z] ]]; then
	fail list-int3-reason "pc_loop: '$ll'"
elif ! grep -q '^2 sites: 1 patched, 1 int3 (1 ' "$T/l"; then
	fail list-summary "$(tail -1 "$T/l")"
elif grep -q '^ready' "$T/l" "$T/l.e"; then
	fail list-no-run "the command ran: $(cat "$T/l")"
else
	ok list-patched-and-int3
fi
# a grabbed process is let go, unharmed
start "$V/probectlv"
timeout -k 5 60 "$DT" trace -l -p "$vpid" -f pc_target >"$T/lp" 2>&1
rc=$?
echo "c 10" >&7
read -r -t 30 ans <&8
[ $rc -eq 0 ] && grep -q '`pc_target .* trampoline$' "$T/lp" && [ "$ans" = "called n=10 sum=145" ] &&
	ok list-grabbed-let-go || fail list-grabbed-let-go "rc=$rc '$ans' $(head -c 300 "$T/lp")"
tracer=$(awk '/^TracerPid/ { print $2 }' /proc/$vpid/status)
[ "$tracer" = 0 ] && ok list-grabbed-untraced || fail list-grabbed-untraced "TracerPid=$tracer"
echo q >&7
wait $vpid
exec 7>&- 8<&-

# ---- --json: how, why, missed
printf 'c 40\nk 7\nq\n' >"$T/in"
tr_run "$T/j" --json -f pc_target -f pc_loop <"$T/in"
j=$(cat "$T/j.r")
if [[ $j == *'"function":"pc_target","hits":40,"how":"trampoline","why":null,"missed":0'* ]] &&
	[[ $j =~ \"function\":\"pc_loop\",\"hits\":7,\"how\":\"int3\",\"why\":\"[^\"]+\",\"missed\":0 ]]; then
	ok json-how-why-missed
else
	fail json-how-why-missed "$(head -c 400 "$T/j.r")"
fi

# ---- --interval: two interval tables at least while the victim runs,
# then the total.  The victim is driven until the report shows them.
rm -f "$T/vin" "$T/vout"
mkfifo "$T/vin" "$T/vout"
timeout -k 5 120 "$DT" trace -o "$T/i.r" --interval 0.1 -f pc_target -- \
	"$V/probectlv" <"$T/vin" >"$T/vout" 2>"$T/i.e" &
dpid=$!
exec 7>"$T/vin" 8<"$T/vout"
read -r -t 30 ready <&8
rounds=0
while [ "$(grep -c '^-- [0-9.]* s$' "$T/i.r" 2>/dev/null)" -lt 3 ] && [ $rounds -lt 200000 ]; do
	echo "c 1000" >&7
	read -r -t 30 ans <&8 || break
	rounds=$((rounds + 1))
done
echo q >&7
wait $dpid
rc=$?
exec 7>&- 8<&-
n=$(grep -c '^-- [0-9.]* s$' "$T/i.r")
sum=$(awk '/^-- / { t = 1; next } /^ *HITS/ { next } /^$/ { t = 0 } t && /pc_target/ { s += $1 } END { print s + 0 }' "$T/i.r")
total=$(hits "$T/i" pc_target)
if [ $rc -ne 0 ] || [ "$n" -lt 2 ]; then
	fail interval-tables "rc=$rc tables=$n $(head -c 300 "$T/i.e")"
elif [ "$total" != $((rounds * 1000)) ] || [ "$sum" -gt "$total" ] || [ "$sum" -lt 1000 ]; then
	fail interval-counts "total=$total (want $((rounds * 1000))) intervals=$sum"
else
	ok interval-tables
fi

# ---- kill -9 of `dtproc trace -p` while counting: the victim runs on,
# right, and exits 0 (5 rounds; the long survival run is the bench's)
for r in 1 2 3 4 5; do
	start "$V/probectlv"
	"$DT" trace -p "$vpid" -f pc_target -f 'libc.so.6`getpid' >/dev/null 2>&1 &
	dpid=$!
	# armed: traced by it, the shared page mapped (bounded poll)
	for i in $(seq 1 500); do
		grep -q memfd:dtproc /proc/$vpid/maps 2>/dev/null &&
			[ "$(awk '/^TracerPid/ { print $2 }' /proc/$vpid/status)" != 0 ] && break
		echo "c 10" >&7
		read -r -t 30 ans <&8
	done
	echo "t $((r * 1000))" >&7
	kill -9 $dpid
	wait $dpid 2>/dev/null
	read -r -t 30 ans <&8
	good=1
	want="sum=$((3 * (r * 1000) * (r * 1000 - 1) / 2 + r * 1000))"
	[[ $ans == "thread tid="*" $want" ]] || good=0
	echo "c 2000" >&7
	read -r -t 30 a2 <&8
	[ "$a2" = "called n=2000 sum=5999000" ] || good=0
	echo q >&7
	read -r -t 30 a3 <&8
	wait $vpid
	st=$?
	exec 7>&- 8<&-
	if [ $good = 1 ] && [ $st = 0 ] && [ "$a3" = bye ]; then
		ok "kill9-survives-$r"
	else
		fail "kill9-survives-$r" "'$ans' '$a2' '$a3' status $st"
	fi
done

summary
