#!/usr/bin/env bash
# Install edgeai as a system service (Debian, Raspberry Pi OS, Ubuntu, Jetson L4T).
#
#   sudo systemd/install.sh              install from this checkout, pull the models, start
#   sudo systemd/install.sh --no-start   the same, without enabling and starting the unit
#   systemd/install.sh --render-unit BIN [PROFILE]  print the unit for an edgeai command at BIN
#                                        and the example config (no root)
#   systemd/install.sh --write-config FILE  write a config with a fresh API token (no root)
#
# What it does: a system user `edgeai` in the audio and video groups; a virtual environment in
# /opt/edgeai; /etc/edgeai/edgeai.yaml from the annotated example with a random API token that
# is required on loopback too, printed once (a kept config is left as it is), readable only by
# root and the edgeai group (0640: it holds secrets); the default models in
# /var/lib/edgeai/models; the unit checked by systemd-analyze, enabled and started.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix=/opt/edgeai
start=yes

# The unit for edgeai command $1 and config $2 (devices of profile $3, default: the config's)
render_unit() {
    "$1" config unit "$2" --template "$repo/systemd/edgeai.service" --bin "$1" ${3:+--profile "$3"}
}

# The example config with a fresh token, required on loopback too; the token is printed once.
write_config() {
    local token
    token="$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    (umask 077 && sed -e "s|^  token: null |  token: \"$token\" |" \
        -e "s|^  require_token: false |  require_token: true  |" \
        "$repo/edgeai.example.yaml" > "$1")
    grep -q "^  token: \"$token\"" "$1" || { echo "could not set the token in $1" >&2; exit 1; }
    chmod 0640 "$1"
    echo "API token (in $1; shown only now): $token"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --render-unit) render_unit "$2" "$repo/edgeai.example.yaml" "${3:-}"; exit 0 ;;
        --write-config) write_config "$2"; exit 0 ;;
        --no-start) start=no; shift ;;
        --prefix) prefix="$2"; shift 2 ;;
        *) echo "unknown option $1 (expected --no-start, --prefix DIR, --render-unit BIN," \
                "--write-config FILE)" >&2
           exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "run as root: sudo $0" >&2
    exit 1
fi

"$repo/scripts/install-system-deps.sh"
if ! id edgeai >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/edgeai --no-create-home --shell /usr/sbin/nologin edgeai
fi
for group in audio video render; do
    getent group "$group" >/dev/null && usermod -aG "$group" edgeai
done

python3 -m venv "$prefix"
"$prefix/bin/pip" install --quiet --upgrade pip
"$prefix/bin/pip" install --quiet "$repo"

install -d -m 0755 /etc/edgeai
[ -f /etc/edgeai/edgeai.yaml ] || write_config /etc/edgeai/edgeai.yaml
chown root:edgeai /etc/edgeai/edgeai.yaml  # the service reads it as edgeai; others cannot
chmod 0640 /etc/edgeai/edgeai.yaml
"$prefix/bin/edgeai" config check /etc/edgeai/edgeai.yaml

install -d -m 0750 -o edgeai -g edgeai /var/lib/edgeai
runuser -u edgeai -- env EDGEAI_HOME=/var/lib/edgeai "$prefix/bin/edgeai" models pull --defaults

checked="$(mktemp -d)/edgeai.service"
render_unit "$prefix/bin/edgeai" /etc/edgeai/edgeai.yaml > "$checked"
systemd-analyze verify "$checked"
install -m 0644 "$checked" /etc/systemd/system/edgeai.service
systemctl daemon-reload
if [ "$start" = yes ]; then
    systemctl enable --now edgeai.service
    echo "edgeai is running: systemctl status edgeai; journalctl -u edgeai -f"
else
    echo "installed; start with: systemctl enable --now edgeai.service"
fi
