#!/usr/bin/env bash
# Installs what the tests need beyond Python, when missing and we may use apt:
# Debian's Chromium and a CJK font (without one, Chinese renders as boxes in
# screenshots) for the browser tests, LibreOffice's headless Calc to check that the
# workbooks we write open and print, and docker-compose to validate
# docker-compose.yml (`config` needs no Docker engine).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
if ! fc-list 2>/dev/null | grep -qiE "noto sans cjk|wenquanyi|wqy"; then
  need+=(fonts-noto-cjk)
fi
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  need+=(docker-compose)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
else
  echo "warning: missing ${need[*]} and cannot install them (not root or no apt);" >&2
  echo "         those tests will fail under CI=true and skip otherwise." >&2
fi
