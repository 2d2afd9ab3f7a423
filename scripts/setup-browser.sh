#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing. Never downloads a
# browser build of its own; if the package cannot be installed the tests say so and skip.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "!!! chromium is missing and this is not root: run 'sudo apt-get install -y chromium' for the browser tests" >&2
  exit 0
fi
echo "installing Debian's chromium for the browser tests…"
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
  || echo "!!! chromium could not be installed: the browser tests will be skipped" >&2
exit 0
