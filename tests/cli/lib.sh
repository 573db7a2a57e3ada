# tests/cli/lib.sh - helpers for the CLI test scripts.  Source it:
#
#	. "$(dirname "$0")/lib.sh"
#	check "prints its version" "$BUILD/cli/dtproc" --version
#	ok NAME | fail NAME WHY... | skip NAME WHY...
#	field KEY LINE; start VICTIM ARGS... (FIFOs in $T)
#	summary			# prints the summary line and exits
#
# Output lines follow the C harness: "ok NAME", "FAIL NAME: why",
# "skip NAME: why", then "# passed P failed F skipped S" (tests/run.sh
# adds these up).  summary exits 1 if anything failed, else 0.

BUILD=${DTPROC_BUILD:-build}
_dt_passed=0
_dt_failed=0
_dt_skipped=0

ok() {
	echo "ok $1"
	_dt_passed=$((_dt_passed + 1))
}

fail() {
	local name=$1
	shift
	echo "FAIL $name: $*"
	_dt_failed=$((_dt_failed + 1))
}

skip() {
	local name=$1
	shift
	echo "skip $name: $*"
	_dt_skipped=$((_dt_skipped + 1))
}

# check NAME COMMAND...: ok if COMMAND exits 0, else fail with its status.
check() {
	local name=$1 rc
	shift
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		fail "$name" "'$*' exited $rc"
	fi
}

# dt ARGS...: the dtproc command, bounded so that a hang fails one check.
dt() {
	timeout -k 5 120 "$BUILD/bin/dtproc" "$@"
}

# fifo_setup NAME: a scratch directory $T (dtproc-cli-NAME.*), removed at
# exit, when the victim's FIFOs (fds 7 and 8) are closed and background
# jobs killed.
fifo_setup() {
	T=$(mktemp -d "/tmp/dtproc-cli-$1.XXXXXX")
	trap 'exec 7>&- 8<&- 2>/dev/null; rm -rf "$T"; kill $(jobs -p) 2>/dev/null' EXIT
}

# nobody_setup: $X, a new directory under /tmp anybody may enter, with
# the command and its library laid out as installed ($ORIGIN/../lib), so
# that another user can run them whatever the checkout's permissions;
# nobody CMD...: CMD as uid 65534.
nobody_setup() {
	X=$(mktemp -d /tmp/dtproc-xo.XXXXXX)
	chmod 755 "$X"
	mkdir -p "$X/bin" "$X/lib" && chmod 755 "$X/bin" "$X/lib"
	cp "$BUILD/bin/dtproc" "$X/bin/dtproc" && chmod 755 "$X/bin/dtproc"
	cp -L "$BUILD"/lib/libdtproc.so.[0-9] "$X/lib/" && chmod 755 "$X"/lib/*
}
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# field KEY LINE: the value of KEY=value in LINE.
field() {
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

# start VICTIM ARGS...: run it on FIFOs in $T (fd 7 its stdin, fd 8 its
# stdout), read its ready line into $ready and its pid into $vpid.
start() {
	rm -f "$T/vin" "$T/vout"
	mkfifo "$T/vin" "$T/vout"
	"$@" <"$T/vin" >"$T/vout" &
	vpid=$!
	exec 7>"$T/vin" 8<"$T/vout"
	ready=
	while read -r ready <&8; do
		case $ready in ready\ *) break ;; esac
	done
}

summary() {
	echo "# passed $_dt_passed failed $_dt_failed skipped $_dt_skipped"
	[ "$_dt_failed" -eq 0 ] && exit 0
	exit 1
}
