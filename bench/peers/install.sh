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

# moto_peer_env ROOT VENV: the emulator's test credentials (unless set) and the repository's
# tools for a benchmark that runs the AWS path against moto beside its Python peer, installed.
moto_peer_env() {
    local root="$1" venv="$2"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
    export AWS_REGION="${AWS_REGION:-us-west-2}" AWS_EC2_METADATA_DISABLED=true
    # boto3 reads the region from AWS_DEFAULT_REGION: without it the Python peers stop with
    # NoRegionError outside scripts/test, which sets both.
    export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"
    export PATH="$root/.venv/bin:$PATH"
    install_python_peers "$venv" "$root/bench/peers/python/requirements.txt"
}
