#!/usr/bin/env bash
# Set up what the Makefile needs, idempotently: Debian packages, then the project venv (.venv) with the pinned
# Python tools (pyproject.toml). A second call installs nothing and takes well under a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# zlib1g-dev and liblz4-dev: Verilator's FST writer; python3-dev: the shared libpython that cocotb embeds;
# verilator: only for /usr/bin/verilator_coverage (the simulator is the pinned PyPI wheel).
APT_PACKAGES=(iverilog yosys lcov liblz4-dev zlib1g-dev ccache build-essential linux-libc-dev verilator
              python3-venv python3-dev)
VENV=.venv
STAMP=$VENV/.bootstrap-stamp
PYTHON=${PYTHON:-python3}
did=()

# (a) Debian packages
declare -A apt_state=()
while read -r name state; do
    apt_state[$name]=$state
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)
missing=()
for package in "${APT_PACKAGES[@]}"; do
    [[ ${apt_state[$package]:-} == installed ]] || missing+=("$package")
done
if ((${#missing[@]})); then
    if ((EUID != 0)); then
        echo "bootstrap: missing Debian packages; install them as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    did+=("installed Debian packages: ${missing[*]}")
fi

# (b) the venv, reinstalled whenever pyproject.toml changes
if [[ ! -x $VENV/bin/python ]]; then
    "$PYTHON" -m venv "$VENV"
    did+=("created $VENV")
fi
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $STAMP || $(<"$STAMP") != "$wanted" ]]; then
    # pip's build warnings go to a log, shown only if the install fails.
    log=$VENV/pip-install.log
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e '.[sim,test]' >"$log" 2>&1; then
        cat "$log" >&2
        echo "bootstrap: pip install -e '.[sim,test]' failed (log above, also in $log)" >&2
        exit 1
    fi
    echo "$wanted" >"$STAMP"
    did+=("installed the project and its pinned tools into $VENV")
fi

if ((${#did[@]})); then
    printf -v summary "%s; " "${did[@]}"
    echo "bootstrap: ${summary%; }"
else
    echo "bootstrap: Debian packages and $VENV up to date, nothing to do"
fi
