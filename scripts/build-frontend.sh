#!/usr/bin/env bash
# Build/vendor the pinned front-end files (see docs/frontend.md).
#
#   bash scripts/build-frontend.sh
#
# Idempotent: installs exactly what frontend/package-lock.json pins (npm ci),
# then regenerates everything under app/static/vendor/ and tests/e2e/vendor/.
# Needs node + npm and openssl; network access to the npm registry only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
NM="$FRONTEND/node_modules"
VENDOR="$ROOT/app/static/vendor"
E2E_VENDOR="$ROOT/tests/e2e/vendor"

log() { printf '[build-frontend] %s\n' "$*"; }

# Read an installed package's version from its package.json.
pkg_version() {
  node -p "require(process.argv[1]).version" "$NM/$1/package.json"
}

sri() {
  printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | openssl base64 -A)"
}

log "npm ci in frontend/"
# --ignore-scripts: nothing we use needs an install script (sass is pure JS;
# its optional native file watcher is not used for one-off builds).
(cd "$FRONTEND" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

GOVUK_VERSION="$(pkg_version govuk-frontend)"
HTMX_VERSION="$(pkg_version htmx.org)"
AXE_VERSION="$(pkg_version axe-core)"

if [[ "$GOVUK_VERSION" != "6.3.0" ]]; then
  # The version is baked into file names, atmp.scss and the app's templates.
  echo "govuk-frontend is $GOVUK_VERSION, expected 6.3.0: update atmp.scss, this script and the templates together" >&2
  exit 1
fi

mkdir -p "$VENDOR" "$E2E_VENDOR"

# Start from a clean slate so renamed/upgraded files never linger.
rm -f "$VENDOR"/govuk-frontend-*.css "$VENDOR"/govuk-frontend-*.js \
      "$VENDOR"/htmx-*.min.js "$VENDOR"/SRI.txt "$E2E_VENDOR"/axe-*.min.js
rm -rf "$VENDOR"/govuk-frontend-*/

CSS_OUT="$VENDOR/govuk-frontend-$GOVUK_VERSION-atmp.min.css"
GOVUK_JS_OUT="$VENDOR/govuk-frontend-$GOVUK_VERSION.min.js"
HTMX_OUT="$VENDOR/htmx-$HTMX_VERSION.min.js"
AXE_OUT="$E2E_VENDOR/axe-$AXE_VERSION.min.js"

log "sass: frontend/atmp.scss -> ${CSS_OUT#"$ROOT"/}"
"$NM/.bin/sass" \
  --style=compressed \
  --no-source-map \
  --load-path="$NM" \
  --quiet-deps \
  "$FRONTEND/atmp.scss" "$CSS_OUT"

# Guard rails on the neutral branding.
if grep -qi 'GDS Transport' "$CSS_OUT"; then
  echo "CSS still references the GDS Transport font" >&2; exit 1
fi
if grep -Eoi 'url\([^)]*(crest|crown|royal|logo|govuk-icon|favicon)[^)]*\)' "$CSS_OUT"; then
  echo "CSS references GOV.UK-branded artwork" >&2; exit 1
fi

log "copy GOV.UK Frontend ES module bundle"
cp "$NM/govuk-frontend/dist/govuk/govuk-frontend.min.js" "$GOVUK_JS_OUT"
# No GOV.UK assets are vendored: the compiled CSS references no url() at all
# (fonts disabled, crest resolved to `none`), and the shipped favicons/icons
# carry the GOV.UK crown. $govuk-assets-path still points at
# /static/vendor/govuk-frontend-6.3.0/assets/ should we ever need one.

log "copy htmx $HTMX_VERSION"
cp "$NM/htmx.org/dist/htmx.min.js" "$HTMX_OUT"

log "copy axe-core $AXE_VERSION"
cp "$NM/axe-core/axe.min.js" "$AXE_OUT"

log "write SRI.txt"
# One line per served vendored file: "<filename> sha384-<base64>", for the
# integrity="" attribute of <script>/<link> tags.
{
  for f in "$GOVUK_JS_OUT" "$HTMX_OUT" "$CSS_OUT"; do
    printf '%s %s\n' "$(basename "$f")" "$(sri "$f")"
  done
} > "$VENDOR/SRI.txt"

CSS_BYTES="$(wc -c < "$CSS_OUT")"
if (( CSS_BYTES >= 150 * 1024 )); then
  echo "compiled CSS is $CSS_BYTES bytes (limit 150 KiB)" >&2; exit 1
fi

log "done:"
for f in "$CSS_OUT" "$GOVUK_JS_OUT" "$HTMX_OUT" "$VENDOR/SRI.txt" "$AXE_OUT"; do
  printf '  %8d  %s\n' "$(wc -c < "$f")" "${f#"$ROOT"/}"
done
