# Shared by scripts/quickstart and scripts/test: install only what is missing.
# Sourced, not run. Assumes the current directory is the repository root.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root to run: $*" >&2
        echo "       install the packages above yourself, or run this script with sudo" >&2
        return 1
    fi
}

# apt_need PKG...: install the Debian packages that are not installed yet.
_APT_UPDATED=""
apt_need() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing packages ${missing[*]} and no apt-get here; install them yourself" >&2
        return 1
    fi
    say "installing Debian packages: ${missing[*]}"
    if [ -z "$_APT_UPDATED" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        _APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

# The Python to build .venv with: 3.11 or newer.
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Ruang needs Python 3.11 or newer (apt-get install python3)" >&2
    return 1
}

_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# venv_need EXTRAS: .venv with Ruang installed editable, e.g. `venv_need test`.
# Reinstalls only when setup.cfg, pyproject.toml or the extras changed.
venv_need() {
    local extras="${1:-}" python spec stamp current
    python="$(find_python)"
    if [ ! -x .venv/bin/python ]; then
        if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
            local ver
            ver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
            apt_need "python${ver}-venv"
        fi
        say "creating .venv with $python"
        "$python" -m venv .venv
    fi
    spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    stamp=.venv/.ruang-installed
    current="$(_hash setup.cfg pyproject.toml)"
    if [ -f "$stamp" ]; then
        local have_hash="" have_extras=""
        read -r have_hash have_extras < "$stamp" || true
        # A venv with the test extra has the base install too, so it serves quickstart.
        if [ "$have_hash" = "$current" ] && { [ -z "$extras" ] || [ "$have_extras" = "$extras" ]; }; then
            return 0
        fi
    fi
    say "installing Ruang into .venv (pip install -e '$spec')"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e "$spec"
    echo "$current $extras" > "$stamp"
}

# npm_need: node_modules exactly as package-lock.json says (npm ci), when it changed.
npm_need() {
    if ! command -v npm >/dev/null 2>&1; then
        apt_need nodejs npm
    fi
    local stamp=node_modules/.ruang-lock want
    want="$(_hash package-lock.json)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "installing front-end packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
}
