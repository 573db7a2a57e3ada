#!/bin/sh
# mk/abi.sh HEADER MAP SO ARCHIVE VERSION - the ABI checks of `make check`.
#
# The version script names every export (one node per release): a call
# declared DTPROC_API in the header but missing from the map would be
# silently hidden, and a name in the map that the .so does not export
# (misspelt, or removed) would be a broken promise; both fail here, as
# does a newest node other than the library's MAJOR.MINOR, or a name
# exported under another node than the map's.  A name listed in several
# nodes has a version in each (bound by .symver in the source): the .so
# must export NAME@@NODE for the newest of them (what programs link
# against now) and NAME@NODE for each older one (what programs linked
# then are bound to), nothing else.  The installed archive must
# hold no global but the DTPROC_API names (its internals were localized
# by objcopy --localize-hidden).  Prints one line per problem; exit 1 if
# any.
set -eu

hdr=$1 map=$2 so=$3 ar=$4 version=$5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtproc-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0
problem() {
	echo "  $*"
	bad=$((bad + 1))
}

# The header's DTPROC_API functions (a declaration may span lines).
grep -v '^[[:space:]]*#' "$hdr" | tr '\n' ' ' | sed 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/::g' |
	grep -oE 'DTPROC_API[^;(]*\(' | sed -E 's/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\($/\1/' |
	sort -u >"$tmp/hdr"

# The map's names as "NAME NODE": comments dropped, the text cut into
# tokens ({, }, ;, global:, local: and names), then read node by node.
sed -e 's:#.*::' "$map" | tr '\n' ' ' |
	sed -e 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/::g' -e 's/[{};]/ & /g' \
	    -e 's/\(global\|local\)[[:space:]]*:/ &: /g' -e 's/::/:/g' |
	tr -s ' \t' '\n\n' | awk '
	$0 == "" { next }
	depth == 0 && after && $0 == ";" { after = 0; next }
	depth == 0 && after {
		if (!($0 in seen)) print "BAD node " node " inherits unknown " $0
		next }
	depth == 0 && $0 == "{" { depth = 1; part = ""; next }
	depth == 0 { node = $0; seen[node] = 1; print "NODE " node; next }
	$0 == "}" { depth = 0; after = 1; next }
	$0 == ";" { next }
	$0 == "global:" || $0 == "local:" { part = substr($0, 1, length($0) - 1); next }
	part == "global" && /^[A-Za-z_][A-Za-z0-9_]*$/ { print "SYM " $0 " " node; next }
	part == "global" { print "BAD not a symbol name in " node ": " $0; next }
	part == "local" && $0 == "*" { next }
	{ print "BAD unexpected in " node ": " $0 }
	' >"$tmp/mapraw"
awk '$1 == "SYM" { print $2 " " $3 }' "$tmp/mapraw" | sort >"$tmp/map"
awk '$1 == "SYM" { print $2 }' "$tmp/mapraw" | sort -u >"$tmp/mapnames"
awk '$1 == "BAD" { $1 = "map:"; print }' "$tmp/mapraw" >"$tmp/mapbad"
while read -r l; do problem "$l"; done <"$tmp/mapbad"

# What the .so must export, one "NAME@@NODE" or "NAME@NODE" a line: the
# newest node naming NAME is its default version, the others old ones.
awk '$1 == "NODE" { ord[$2] = ++k }
	$1 == "SYM" { n = $2; v = $3
		if (!(n in def) || ord[v] > ord[def[n]]) def[n] = v
		all[n] = all[n] " " v }
	END { for (n in all) { c = split(all[n], vs, " ")
		for (i = 1; i <= c; i++)
			print n (vs[i] == def[n] ? "@@" : "@") vs[i] } }' \
	"$tmp/mapraw" | sort -u >"$tmp/want"

# What it does export, the same way (an unversioned name as it is).
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort -u >"$tmp/got"

for n in $(comm -23 "$tmp/hdr" "$tmp/mapnames"); do
	problem "$n: declared DTPROC_API in $hdr, missing from $map"
done
for l in $(sort "$tmp/map" | uniq -d | tr ' ' :); do
	problem "${l%%:*}: named twice in $map's ${l#*:}"
done
# Per name: the versions wanted against those exported.
awk -v map="$map" -v so="$(basename "$so")" '
	{ n = $0; sub(/@.*/, "", n)
	  if (FILENAME == ARGV[1]) want[n] = want[n] " " $0
	  else got[n] = got[n] " " $0
	  names[n] = 1 }
	END { for (n in names) {
		if (!(n in got))
			print n ": in " map " (" substr(want[n], 2) "), not exported by " so
		else if (!(n in want))
			print n ": exported by " so " (" substr(got[n], 2) "), not in " map
		else if (want[n] != got[n])
			print n ": " map " wants" want[n] ", " so " exports" got[n] } }
	' "$tmp/want" "$tmp/got" | sort >"$tmp/sobad"
while read -r l; do problem "$l"; done <"$tmp/sobad"

# The newest node is this release: DTPROC_MAJOR.MINOR of VERSION.
want=DTPROC_$(echo "$version" | cut -d. -f1,2)
last=$(awk '$1 == "NODE" { n = $2 } END { print n }' "$tmp/mapraw")
[ "$last" = "$want" ] ||
	problem "$map: newest node is $last, the library is $version ($want)"

# A version the source binds (.symver) that the .so does not export: the
# map's old node does not list NAME, and its "local: *" hid NAME@NODE.
nm -g --defined-only "$ar" 2>/dev/null | awk 'NF == 3 && $3 ~ /@/ { print $3 }' |
	sort -u | comm -23 - "$tmp/got" >"$tmp/hidden"
while read -r l; do
	problem "$l: defined (.symver), not exported by $(basename "$so"): list ${l%%@*} in ${l##*@} of $map"
done <"$tmp/hidden"

# The installed archive: DTPROC_API names only, every one of them.
# (a versioned call appears as NAME@@NODE and NAME@NODE: a static link
# takes the default for NAME)
nm -g --defined-only "$ar" 2>/dev/null | awk 'NF == 3 { n = $3; sub(/@.*/, "", n);
	print n }' | sort -u >"$tmp/ar"
for n in $(comm -23 "$tmp/ar" "$tmp/hdr"); do
	problem "$n: global in $(basename "$ar"), not a DTPROC_API call"
done
for n in $(comm -13 "$tmp/ar" "$tmp/hdr"); do
	problem "$n: DTPROC_API call missing from $(basename "$ar")"
done

if [ "$bad" -gt 0 ]; then
	echo "check-abi: $bad problem(s)" >&2
	exit 1
fi
echo "check-abi: $(wc -l <"$tmp/hdr") calls; $(basename "$hdr"), $(basename "$map"), $(basename "$so") and $(basename "$ar") agree"
