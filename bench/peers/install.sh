# shellcheck shell=bash
# Installs the pinned peers when missing or when their pin changed; sourced by the bench scripts.
# A copy of each pin next to its install says which pin is installed.

# install_python_peers VENV REQUIREMENTS
install_python_peers() {
    local venv="$1" requirements="$2"
    cmp -s "$requirements" "$venv/requirements.txt" && return 0
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
}

# install_node_peers DIR (holding package.json and package-lock.json)
install_node_peers() {
    local dir="$1"
    cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json" && return 0
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
}
