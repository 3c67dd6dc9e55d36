#!/usr/bin/env bash
# Debian packages edgeai needs: PortAudio for microphones and speakers, espeak-ng for
# synthetic test and training speech, wamerican (a word list) for varied negative sentences,
# mosquitto (the MQTT broker the tests start; Home Assistant users have their own), chromium
# (the real browser the web page's tests and `edgeai bench web` drive), MBROLA voices (a second
# synthesizer: the held-out voices of `edgeai bench wake` and `bench stt`), libspeexdsp1 (the
# linear echo canceller on the wake and stop words' path).
# Installs only what is missing.
set -euo pipefail
packages=(libportaudio2 espeak-ng wamerican mosquitto chromium libspeexdsp1)
# MBROLA and its English voices: the held-out voice family of `edgeai bench wake`, which no
# training uses. Debian keeps mbrola in contrib and its voices in non-free: they are installed
# from there for this one command, without adding those components to the system's sources.
held_out=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1)
missing=()
missing_held_out=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
for package in "${held_out[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing_held_out+=("$package")
done
[ ${#missing[@]} -eq 0 ] && [ ${#missing_held_out[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} ${missing_held_out[*]}; run this script as root" >&2
    exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
if [ ${#missing_held_out[@]} -gt 0 ]; then
    sources=$(mktemp -d)
    trap 'rm -rf "$sources"' EXIT
    cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$sources"/ 2>/dev/null || true
    [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$sources"/system.list
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    # the mirror the system already uses for its main component
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    if [ -z "$mirror" ]; then
        echo "no Debian mirror found in /etc/apt; install ${missing_held_out[*]} by hand" >&2
        exit 1
    fi
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$codename" > "$sources"/edgeai-held-out.sources
    with_held_out=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$sources")
    apt-get update -qq "${with_held_out[@]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${with_held_out[@]}" "${missing_held_out[@]}"
    apt-get update -qq  # the package lists of the system's own sources again
fi
