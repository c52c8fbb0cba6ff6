#!/usr/bin/env bash
# Execute the notebooks headless through Deno's Jupyter kernel; fails if a cell throws or an
# expected output is missing. Usage: .ci/notebooks.sh [NOTEBOOK...] (default: notebooks/*.ipynb).
#   DENO    the deno command (default: npx -y deno@2.9.6)
#   PYTHON  a Python with jupyter_client and nbformat (default: Debian's /usr/bin/python3, whose
#           python3-jupyter-client and python3-nbformat packages are installed when missing)
set -euo pipefail
notebooks=()
for nb in "$@"; do notebooks+=("$(realpath "$nb")"); done
cd "$(dirname "$0")/.."
if [ "${#notebooks[@]}" -eq 0 ]; then notebooks=(notebooks/*.ipynb); fi
DENO="${DENO:-npx -y deno@2.9.6}"
PYTHON="${PYTHON:-/usr/bin/python3}"
KERNEL="${KERNEL:-matcalc-deno}"
start=$SECONDS

if ! "$PYTHON" -c "import jupyter_client, nbformat" 2>/dev/null; then
  echo "Installing Debian's python3-jupyter-client and python3-nbformat"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-jupyter-client python3-nbformat
  PYTHON=/usr/bin/python3
fi

# Register the kernel with the deno binary itself (not npx's wrapper, whose cache may move),
# under its own name so that a user's "deno" kernelspec is left alone.
DENO_BIN="$($DENO eval 'console.log(Deno.execPath())' 2>/dev/null | tail -n 1 || true)"
if [ ! -x "$DENO_BIN" ]; then
  echo "Cannot find the deno binary: \`$DENO eval 'console.log(Deno.execPath())'\` gave '$DENO_BIN'" >&2
  exit 1
fi
"$DENO_BIN" --version
"$DENO_BIN" jupyter --install --force --name "$KERNEL" --display "Deno (matcalc CI)"
"$PYTHON" - "$KERNEL" <<'PY'
import os, sys
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec(sys.argv[1])
exe = spec.argv[0]
if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
    sys.exit(f"kernelspec {sys.argv[1]} points at {exe}, which is not an executable")
print(f"kernelspec {sys.argv[1]}: {' '.join(spec.argv)}")
PY

# Type-check the notebooks' code (the kernel runs cells without checking them).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" .ci/run_notebooks.py --extract "$tmp" "${notebooks[@]}"
"$DENO_BIN" check --quiet --config deno.json "$tmp"/*.ts

"$PYTHON" .ci/run_notebooks.py --kernel "$KERNEL" "${notebooks[@]}"
echo "notebooks: $((SECONDS - start)) s in all"
