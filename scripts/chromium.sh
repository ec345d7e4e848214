#!/bin/sh
# Install what the browser tests of the report need: Debian's chromium (headless rendering, print to PDF) and
# poppler-utils (pdftotext / pdfinfo to read the printed pages back). Idempotent: does nothing when both are there.
set -eu

need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
command -v pdfinfo >/dev/null 2>&1 || case "$need" in *poppler-utils*) ;; *) need="$need poppler-utils" ;; esac

if [ -z "$need" ]; then
    echo "chromium and poppler-utils already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-dejavu-core: a font with the arrows and dashes the report prints
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need fonts-dejavu-core ca-certificates >/dev/null
echo "installed:$need"
