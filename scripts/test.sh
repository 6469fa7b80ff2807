#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, then type check, lint and every
# test tier (unit, contract, integration on DynamoDB Local, infra, browser in Debian's
# Chromium). Jest starts and stops DynamoDB Local itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/ensure-chromium.sh
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
echo "==> type check" && npx tsc --noEmit && npx tsc --noEmit -p web
echo "==> lint" && npx eslint . && npx prettier --check . >/dev/null
# In Jest's workers only: what a worker that does not end in time still holds, printed at the
# end of the run (test/support/worker-exit-probe.cjs).
export NODE_OPTIONS="${NODE_OPTIONS:-} --require \"$PWD/test/support/worker-exit-probe.cjs\""
echo "==> tests" && npx jest "$@"
