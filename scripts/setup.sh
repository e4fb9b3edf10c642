#!/usr/bin/env bash
# Set up a fresh Debian machine (Python 3.11) to build and test derive. Safe to re-run.
#  1. TeX Live, latexmk and pdftotext from apt, unless already on PATH; bubblewrap (the LaTeX
#     sandbox, docs/decisions.md 88) likewise.
#  2. .venv with derive installed editable, with its test extras; re-installed only when
#     pyproject.toml changed since the last successful install.
#  3. Chromium (for the browser tests) and npm from apt, unless already on PATH.
#  4. KaTeX (math in the web booklet) vendored from npm into vendor/, unless present.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

apt_install() {
    "${SUDO[@]}" apt-get update -qq >/dev/null
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v latexmk >/dev/null || ! command -v pdflatex >/dev/null || ! command -v pdftotext >/dev/null; then
    echo "setup: installing TeX Live, latexmk and poppler-utils (apt)" >&2
    apt_install texlive-latex-base texlive-latex-recommended texlive-fonts-recommended \
        latexmk poppler-utils lmodern
fi

if ! command -v bwrap >/dev/null; then
    echo "setup: installing bubblewrap, the LaTeX sandbox (apt)" >&2
    apt_install bubblewrap
fi

if [ ! -x .venv/bin/pip ]; then
    rm -rf .venv
    if ! python3 -m venv .venv >/dev/null 2>&1; then
        echo "setup: python3 -m venv failed; installing python3-venv (apt)" >&2
        rm -rf .venv
        apt_install python3-venv
        python3 -m venv .venv
    fi
fi

stamp=.venv/.derive-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/derive ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" > "$stamp"
fi

# Only what is missing: Debian's npm conflicts with a Node.js that ships its own npm.
missing=""
command -v chromium >/dev/null || missing="chromium"
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
    echo "setup: installing ${missing# } (apt)" >&2
    # shellcheck disable=SC2086
    apt_install $missing
fi

KATEX_VERSION=0.16.47
if [ "$(cat vendor/.katex-version 2>/dev/null)" != "$KATEX_VERSION" ] || [ ! -f vendor/node_modules/katex/dist/katex.min.js ]; then
    mkdir -p vendor
    npm install --prefix vendor --no-save --no-audit --no-fund --loglevel=error "katex@$KATEX_VERSION" >/dev/null
    echo "$KATEX_VERSION" > vendor/.katex-version
fi
