#!/usr/bin/env bash
# Set-up shared by `npm test`, `npm start` and `npm run bench`: dependencies from the lock file
# (when node_modules is missing or older than the lock) and a Java runtime for DynamoDB Local.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -L node_modules ]; then
  # A shared install (a symlink, e.g. one per machine for several worktrees): `npm ci` would
  # empty the directory it points to under everyone using it. Never install through it.
  if [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "note: node_modules is a shared install (a symlink) older than package-lock.json; not reinstalling it here." >&2
  fi
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing a Java runtime for DynamoDB Local (apt-get install openjdk-17-jre-headless)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "error: DynamoDB Local needs a Java 17+ runtime and 'java' is not on PATH." >&2
    echo "       Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17" >&2
    exit 1
  fi
fi
