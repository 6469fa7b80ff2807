#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core with executablePath; never a
# downloaded browser). Installs it with apt when missing and root is available; otherwise
# fails with what to do.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Chromium for the browser tests (apt-get install chromium)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  if [ -x "$CHROMIUM" ]; then exit 0; fi
fi
echo "error: the browser tests need Chromium at $CHROMIUM and it is missing." >&2
echo "       Debian/Ubuntu: sudo apt-get install -y chromium; elsewhere set CHROMIUM_PATH to a" >&2
echo "       Chromium or Chrome binary. (npx playwright install is not used: it downloads a browser.)" >&2
exit 1
