#!/usr/bin/env bash
# tests/cli/names.sh - `dtproc trace` on names that are not one symbol at
# one address (symnamesv, tests/victims/symnamesv.c, in its "run N" mode:
# N calls of each function from main, then _exit, no other libc call):
# an IFUNC is counted at the implementation the program calls (strlen,
# memcpy: exactly N, labelled with the implementation), aliases are one
# site that every probe naming it matches (no warning), namesakes are two
# lines told apart by their offset, a plain versioned name arms the
# default version only and NAME@VERSION another.
#
# The report may go to stdout or stderr: both are read together, table
# lines by their form.
. "$(dirname "$0")/lib.sh"

DT=$BUILD/bin/dtproc
V=$BUILD/tests/victims/symnamesv
T=$(mktemp -d /tmp/dtproc-names.XXXXXX)
trap 'rm -rf "$T"' EXIT
N=200

# run NAME ARGS...: dtproc trace -s main ARGS -- symnamesv run N, all
# output in $T/NAME; its status in $rc.
run() {
	local o=$T/$1
	shift
	"$DT" trace -s main "$@" -- "$V" run "$N" >"$o" 2>&1
	rc=$?
}

# hits NAME LABEL: the hits of the table line whose probe is LABEL
# (object`function as printed), 0 if none.
hits() {
	awk -v l="$2" '$1 ~ /^[0-9]+$/ { s = $0; sub(/^ *[0-9]+  /, "", s)
	    if (s == l) n += $1 } END { print n + 0 }' "$T/$1"
}

# lines NAME REGEX: how many table lines' probes match REGEX.
lines() {
	awk -v r="$2" '$1 ~ /^[0-9]+$/ { s = $0; sub(/^ *[0-9]+  /, "", s)
	    if (s ~ r) n++ } END { print n + 0 }' "$T/$1"
}

# An IFUNC: the implementation libc chose, every call counted.
run ifunc -f strlen -f memcpy
impl=$(awk '$1 ~ /^[0-9]+$/ && $2 == "libc.so.6`strlen" { print $3 }' "$T/ifunc")
if [ "$rc" -ne 0 ]; then
	fail ifunc_counts "trace exited $rc: $(cat "$T/ifunc")"
elif [ -z "$impl" ]; then
	fail ifunc_counts "no libc.so.6\`strlen (IMPL) line: $(cat "$T/ifunc")"
elif [ "$(hits ifunc "libc.so.6\`strlen $impl")" -ne "$N" ]; then
	fail ifunc_counts "strlen: $(hits ifunc "libc.so.6\`strlen $impl") hits, want $N"
elif [ "$(lines ifunc '^libc[.]so[.]6`memcpy [(].*[)]$')" -ne 1 ]; then
	fail ifunc_counts "no one libc.so.6\`memcpy (IMPL) line: $(cat "$T/ifunc")"
elif [ "$(awk '$1 ~ /^[0-9]+$/ && $2 == "libc.so.6`memcpy" { print $1 }' "$T/ifunc")" -ne "$N" ]; then
	fail ifunc_counts "memcpy: not $N hits: $(cat "$T/ifunc")"
else
	ok ifunc_counts
fi

# Aliases: one site, matched by both probes, no warning.
run alias -f names_target -f names_alias
if [ "$rc" -ne 0 ] || grep -q warning "$T/alias"; then
	fail alias_one_site "status $rc or a warning: $(cat "$T/alias")"
elif [ "$(hits alias 'symnamesv`names_target')" -ne $((2 * N)) ] ||
    [ "$(lines alias 'names_alias')" -ne 0 ]; then
	fail alias_one_site "want one names_target line of $((2 * N)): $(cat "$T/alias")"
else
	ok alias_one_site
fi
run alias2 -f names_alias
if [ "$(hits alias2 'symnamesv`names_alias')" -ne $((2 * N)) ]; then
	fail alias_as_written "want names_alias $((2 * N)): $(cat "$T/alias2")"
else
	ok alias_as_written
fi

# Namesakes: two lines, apart by their offsets.
run twin -f 'symnamesv`twin'
if [ "$(lines twin '^symnamesv`twin [[]0x[0-9a-f]+[]]$')" -ne 2 ]; then
	fail namesakes_apart "want two twin [OFFSET] lines: $(cat "$T/twin")"
elif ! awk '$1 ~ /^[0-9]+$/ && $2 == "symnamesv`twin" { print $1 }' \
    "$T/twin" | sort -n | tr '\n' ' ' | grep -qx "$N $((2 * N)) "; then
	fail namesakes_apart "want $N and $((2 * N)) hits: $(cat "$T/twin")"
else
	ok namesakes_apart
fi

# Versions: the plain name is the default version alone; NAME@VERSION
# finds the compat one.
run ver --json -f pthread_cond_signal
if ! grep -q '"function":"pthread_cond_signal","hits":'"$N"'[,}]' "$T/ver" ||
    ! grep -q '"armed":1}' "$T/ver"; then
	fail version_default "want $N hits at one site: $(cat "$T/ver")"
else
	ok version_default
fi
run compat --json -f 'pthread_cond_signal@GLIBC_2.2.5'
if grep -q warning "$T/compat" || ! grep -q '"armed":1}' "$T/compat"; then
	fail version_compat "want the compat version armed: $(cat "$T/compat")"
else
	ok version_compat
fi

summary
