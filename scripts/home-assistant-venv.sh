#!/usr/bin/env bash
# A real Home Assistant core for the tests of edgeai's Home Assistant control, in a virtual
# environment of its own: its exact pins (aiohttp, httpx, PyYAML, ...) conflict with edgeai's.
# 2024.3.3 is the last release that runs on Python 3.11 (2024.4 needs 3.12). The requirements
# of the integrations it always sets up (frontend, backup, hardware, person, ...) and of
# conversation come from their manifest.json in this release (analytics imports recorder's
# SQLAlchemy), so Home Assistant starts with --skip-pip and never installs anything itself.
# acme (through hass-nabucasa, for cloud) breaks with josepy 2. Prints the venv's python; a
# second run only prints it.
set -euo pipefail
version=2024.3.3
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${EDGEAI_HA_VENV:-$root/.cache/home-assistant/venv-$version}
# 2024.3 runs on Python 3.11 and 3.12
python=${PYTHON:-$(command -v python3.11 || command -v python3.12 || command -v python3)}
if [ ! -f "$venv/.installed" ]; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet "homeassistant==$version" \
        "hassil==1.6.1" "home-assistant-intents==2024.3.12" \
        "home-assistant-frontend==20240307.0" "Pillow==10.2.0" "janus==1.0.0" \
        "psutil-home-assistant==0.0.1" "securetar==2024.2.1" "SQLAlchemy==2.0.27" \
        "fnv-hash-fast==0.5.0" "josepy<2" >&2
    touch "$venv/.installed"
fi
echo "$venv/bin/python"
