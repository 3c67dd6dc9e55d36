#!/usr/bin/env bash
# Debian packages edgeai needs: PortAudio for microphones and speakers, espeak-ng for
# synthetic test and training speech, wamerican (a word list) for varied negative sentences,
# mosquitto (the MQTT broker the tests start; Home Assistant users have their own), chromium
# (the real browser the web page's tests and `edgeai bench web` drive), MBROLA voices (a second
# synthesizer: the held-out voices of `edgeai bench wake` and `bench stt`), SVOX Pico (a third
# synthesizer, for wake word recipes that train on it), libspeexdsp1 (the linear echo canceller
# on the wake and stop words' path).
# Installs only what is missing.
set -euo pipefail
packages=(libportaudio2 espeak-ng wamerican mosquitto chromium libspeexdsp1)
# MBROLA and its English voices: the held-out voice family of `edgeai bench wake`, which no
# training uses; and pico2wave (libttspico-utils). Debian keeps mbrola in contrib, its voices and
# Pico in non-free: they are installed from there for this one command, without adding those
# components to the system's sources.
non_free=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 libttspico-utils)
missing=()
missing_non_free=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
for package in "${non_free[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing_non_free+=("$package")
done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_non_free[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} ${missing_non_free[*]}; run this script as root" >&2
    exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [ ${#missing_non_free[@]} -gt 0 ]; then
    sources=$(mktemp -d)
    trap 'rm -rf "$sources"' EXIT
    cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$sources"/ 2>/dev/null || true
    [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$sources"/system.list
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    # the mirror the system already uses for its main component
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    if [ -z "$mirror" ]; then
        echo "no Debian mirror found in /etc/apt; install ${missing_non_free[*]} by hand" >&2
        exit 1
    fi
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$codename" > "$sources"/edgeai-non-free.sources
    with_non_free=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$sources")
    apt-get update -qq "${with_non_free[@]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${with_non_free[@]}" "${missing_non_free[@]}"
    apt-get update -qq  # the package lists of the system's own sources again
fi
