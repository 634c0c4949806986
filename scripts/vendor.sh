#!/usr/bin/env bash
# Vendor the operator console's front-end packages into src/hotline/web/static/vendor/.
#
# The packages and their exact versions and integrity hashes are pinned in
# src/hotline/web/npm/package.json and package-lock.json. This script installs them with
# the machine's npm (`npm ci`, install scripts off) into a throwaway folder and copies
# only the files the console serves, each package's licence beside them. The node then
# serves them itself: nothing is fetched from the internet at run time, no CDN.
#
# Idempotent: when the vendor folder already matches the lockfile (a stamp holds the
# lockfile's SHA-256) nothing is fetched. `bash scripts/vendor.sh --force` re-copies.
set -euo pipefail
cd "$(dirname "$0")/.."
NPM_DIR=src/hotline/web/npm
VENDOR=src/hotline/web/static/vendor
STAMP="$VENDOR/.stamp"
want=$(sha256sum "$NPM_DIR/package-lock.json" | cut -d' ' -f1)

if [ "${1:-}" != "--force" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor.sh: npm is needed to vendor the console's packages (apt-get install npm)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$NPM_DIR/package.json" "$NPM_DIR/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
mods="$work/node_modules"

# package  files to copy (relative to the package), copied flat into vendor/<package>/
copy() {
    local package=$1 dest="$VENDOR/$1"
    shift
    mkdir -p "$dest"
    cp "$mods/$package"/LICENSE* "$dest/"  # LICENSE, or LICENSE.txt (geographiclib)
    for file in "$@"; do
        mkdir -p "$dest/$(dirname "$file")"
        cp "$mods/$package/$file" "$dest/$file"
    done
}

rm -rf "$VENDOR"
mkdir -p "$VENDOR"
copy htmx.org dist/htmx.min.js
copy leaflet dist/leaflet.js dist/leaflet.css dist/images/layers.png \
    dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png \
    dist/images/marker-shadow.png
copy milsymbol dist/milsymbol.js
copy topojson-client dist/topojson-client.min.js
copy world-atlas countries-50m.json
copy axe-core axe.min.js
copy geographiclib-geodesic geographiclib-geodesic.min.js
# Produced at setup time, never committed (see docs/console.md).
printf '*\n' > "$VENDOR/.gitignore"
echo "$want" > "$STAMP"
echo "vendored the console's packages into $VENDOR"
