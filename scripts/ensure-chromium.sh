#!/usr/bin/env bash
# Chromium for the designer-preview test: Debian's package, installed when it is missing and
# this machine can install it (root with apt-get). Elsewhere the test is skipped, saying why.
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is not installed (the designer-preview test will be skipped)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "chromium could not be installed (the designer-preview test will be skipped)" >&2
exit 0
