#!/usr/bin/env bash
# Debian packages edgeai needs: PortAudio for microphones and speakers, espeak-ng for
# synthetic test and training speech, wamerican (a word list) for varied negative sentences,
# mosquitto (the MQTT broker the tests start; Home Assistant users have their own), MBROLA
# voices (a second synthesizer: the held-out voices of `edgeai bench stt`).
# Installs only what is missing.
set -euo pipefail
packages=(libportaudio2 espeak-ng wamerican mosquitto mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
