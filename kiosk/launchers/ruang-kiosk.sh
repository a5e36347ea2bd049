#!/bin/sh
# Open Ruang's kiosk page in Chromium's kiosk mode on a Linux lab PC.
#
#   ruang-kiosk.sh [--watch] [--dry-run] [--install-ca FILE] [URL]
#
# URL defaults to $RUANG_KIOSK_URL, e.g. https://exam.lab:5000/kiosk. The browser keeps its
# own profile ($RUANG_KIOSK_PROFILE, default ~/.config/ruang-kiosk): the kiosk's enrolment
# and the answers waiting to be sent live there, so it must persist across restarts (no
# incognito). --watch starts the browser again whenever it exits; --install-ca adds the lab
# CA made by `ruang tls init` to the user's NSS database, which Chromium trusts.
#
# Environment: RUANG_KIOSK_BROWSER (path of the browser), RUANG_KIOSK_EXTRA_ARGS (more
# browser arguments, split on spaces).
set -eu

url="${RUANG_KIOSK_URL:-}"
watch=0
dry=0
ca=""
while [ $# -gt 0 ]; do
    case "$1" in
        --watch) watch=1 ;;
        --dry-run) dry=1 ;;
        --install-ca) shift; ca="${1:-}" ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "ruang-kiosk: unknown option $1" >&2; exit 2 ;;
        *) url="$1" ;;
    esac
    shift
done
if [ -z "$url" ]; then
    echo "ruang-kiosk: give the kiosk URL (or set RUANG_KIOSK_URL), e.g. https://exam.lab:5000/kiosk" >&2
    exit 2
fi

browser="${RUANG_KIOSK_BROWSER:-}"
if [ -z "$browser" ]; then
    for candidate in chromium chromium-browser google-chrome-stable google-chrome microsoft-edge; do
        if command -v "$candidate" >/dev/null 2>&1; then
            browser="$(command -v "$candidate")"
            break
        fi
    done
fi
if [ -z "$browser" ]; then
    echo "ruang-kiosk: no Chromium found; install it (apt install chromium) or set RUANG_KIOSK_BROWSER" >&2
    exit 1
fi

case "$url" in
    http://localhost*|http://127.*|http://\[::1\]*|https://*) ;;
    http://*)
        echo "ruang-kiosk: warning: $url is plain HTTP on a network address." >&2
        echo "  Browsers open encrypted exam papers only over HTTPS: on the server run" >&2
        echo "  'ruang tls init --name <server name>' and 'ruang serve --tls', install the" >&2
        echo "  lab CA here (--install-ca ruang-ca.crt) and use https://." >&2
        ;;
esac

if [ -n "$ca" ]; then
    if ! command -v certutil >/dev/null 2>&1; then
        echo "ruang-kiosk: certutil is missing (apt install libnss3-tools)" >&2
        exit 1
    fi
    mkdir -p "$HOME/.pki/nssdb"
    [ -f "$HOME/.pki/nssdb/cert9.db" ] || certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password
    certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n "Ruang lab CA" -i "$ca"
    echo "ruang-kiosk: lab CA installed for $(id -un)"
fi

profile="${RUANG_KIOSK_PROFILE:-$HOME/.config/ruang-kiosk}"

# After a power cut Chromium would offer to restore the last session over the exam page.
prefs="$profile/Default/Preferences"
if [ -f "$prefs" ]; then
    sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[A-Za-z]*"/"exit_type":"Normal"/' "$prefs" || true
fi

set -- "$browser" --kiosk --user-data-dir="$profile" --no-first-run --no-default-browser-check \
    --noerrdialogs --disable-infobars --disable-session-crashed-bubble --disable-translate \
    --disable-features=Translate,TranslateUI --disable-pinch --overscroll-history-navigation=0 \
    --disable-sync --password-store=basic --check-for-update-interval=31536000
# shellcheck disable=SC2086 # extra arguments are split on purpose
set -- "$@" ${RUANG_KIOSK_EXTRA_ARGS:-} "$url"

if [ "$dry" = 1 ]; then
    printf '%s\n' "$*"
    exit 0
fi
mkdir -p "$profile"
if [ "$watch" = 0 ]; then
    exec "$@"
fi
while :; do
    "$@" || true
    echo "ruang-kiosk: the browser closed; starting it again in 2 s (Ctrl+C to stop)" >&2
    sleep 2
done
