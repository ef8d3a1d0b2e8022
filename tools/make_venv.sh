#!/usr/bin/env bash
# Create the virtualenv with Python 3.11+ and install the pinned dependencies.
set -euo pipefail
venv=${1:-.venv}
python=""
for candidate in python3.11 python3.12 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  echo "Python 3.11 or newer is needed: install it with 'apt-get install python3 python3-venv'." >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.lock
