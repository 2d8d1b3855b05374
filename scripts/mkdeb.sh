#!/usr/bin/env bash
# mkdeb.sh BUILD_DIR - builds BUILD_DIR/roomkey_VERSION_ARCH.deb from
# BUILD_DIR/roomkey with dpkg-deb: the files of `make install` under
# PREFIX=/usr (binary stripped, man pages and changelog compressed), the
# unit in /lib/systemd/system, /etc/roomkey/roomkey.yaml as a conffile,
# Depends: computed by dpkg-shlibdeps from the binary's shared libraries
# (and the shlibs entries of the three it loads at run time),
# and deploy/debian's maintainer scripts. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
version=$(cat VERSION)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

make --no-print-directory -s install DESTDIR="$root" PREFIX=/usr SYSCONFDIR=/etc \
    UNITDIR=/lib/systemd/system B="$build" >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/roomkey"
gzip -9n "$root/usr/share/man/man1/roomkey.1" "$root/usr/share/man/man5/roomkey.yaml.5"
doc=$root/usr/share/doc/roomkey
install -m 0644 deploy/debian/copyright "$doc/copyright"
commit=$(sed -n 's/^roomkey .*(commit \(.*\))$/\1/p' < <("$build/roomkey" version))
{
    printf 'roomkey (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * RoomKey %s, built from commit %s.\n\n' "$version" "$commit"
    printf ' -- RoomKey maintainers <maintainers@roomkey.invalid>  %s\n' "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$doc/changelog.gz"

# Depends: dpkg-shlibdeps reads the libraries the binary links against.
mkdir -p "$work/debian"
printf 'Source: roomkey\n\nPackage: roomkey\nArchitecture: any\n' > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e"$root/usr/bin/roomkey" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# libcurl, libpq and libmicrohttpd are loaded at run time
# (src/util/dynlib.h), out of dpkg-shlibdeps' sight: their lines come from
# their packages' shlibs files (e.g. "libpq 5 libpq5 (>= 15.18)"), matched
# on the soname.
for lib in "libcurl4 libcurl 4" "libpq5 libpq 5" "libmicrohttpd12 libmicrohttpd 12"; do
    set -- $lib
    dep=$(dpkg-query --control-show "$1" shlibs | awk -v n="$2" -v v="$3" \
        '$1 == n && $2 == v {$1 = $2 = ""; sub(/^ +/, ""); print; exit}')
    [ -n "$dep" ] || { echo "mkdeb: no shlibs entry for $2.so.$3 in $1" >&2; exit 1; }
    depends="$depends, $dep"
done

mkdir -p "$root/DEBIAN"
install -m 0755 deploy/debian/postinst deploy/debian/postrm "$root/DEBIAN/"
echo /etc/roomkey/roomkey.yaml > "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: roomkey
Version: $version
Architecture: $arch
Maintainer: RoomKey maintainers <maintainers@roomkey.invalid>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Description: LiveKit access service
 RoomKey hands out LiveKit access tokens to an application's signed-in
 users: it verifies the caller's session JWT or API key, decides from the
 room's policy whether the caller may enter and with which grants, mints
 the token, and records every issuance in an audit log (SQLite or
 PostgreSQL). It serves the token contracts of existing apps unchanged.
 .
 This package installs the roomkey command, its man pages and a hardened
 systemd unit (roomkey.service).
CONTROL
out=$build/roomkey_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
