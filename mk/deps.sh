#!/bin/sh
# mk/deps.sh - make sure the Debian packages dtproc's build and tests need
# are installed.  Silent when nothing is missing; installs what is missing
# when run as root; otherwise prints the command to run and fails.
# DTPROC_NO_DEPS=1 skips the check altogether.

# The one list of build and test dependencies.
PACKAGES="gcc make libc6-dev pkgconf binutils procps python3 bash coreutils libelf-dev libc6-dbg elfutils libdw-dev libzydis-dev libiberty-dev g++ gdb systemtap-sdt-dev"

set -eu

[ "${DTPROC_NO_DEPS:-0}" = 1 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "dtproc: not a Debian system; make sure these are installed:" \
		"$PACKAGES" >&2
	exit 0
fi

missing=
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
missing=${missing# }

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "dtproc: installing build dependencies: $missing" >&2
	apt-get update -qq
	# shellcheck disable=SC2086  # word splitting wanted
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
	exit 0
fi

echo "dtproc: missing build dependencies; run as root:" >&2
echo "  apt-get install -y $missing" >&2
exit 1
