#!/usr/bin/env bash
# Build Studio's one-folder desktop bundle with PyInstaller, then smoke-test the bundle: it
# opens the window, loads the sample digits and trains one epoch (headless), and the bundled
# `studio train` trains one epoch too.
#
#   packaging/build.sh                      CPU-only torch from the PyTorch CPU index (small)
#   STUDIO_TORCH=pypi packaging/build.sh    PyPI's default torch (on Linux it brings CUDA: GBs)
#
# Output: build/bundle/Studio/ (run build/bundle/Studio/studio). Versions come from uv.lock.
# Other knobs: STUDIO_TORCH_INDEX (the CPU index URL), STUDIO_PYTHON (default 3.11; it needs
# its shared library, which uv's and most distributions' Pythons have), SKIP_SMOKE=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/build/packaging"
dist="$root/build/bundle"
venv="$work/venv"
flavour="${STUDIO_TORCH:-cpu}"
cpu_index="${STUDIO_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
cd "$root"
mkdir -p "$work"
t0=$(date +%s)

echo "== build environment ($venv, torch: $flavour)"
uv venv --quiet --allow-existing --python "${STUDIO_PYTHON:-3.11}" "$venv"
uv export --quiet --frozen --no-dev --group packaging --no-hashes --no-emit-project \
    >"$work/requirements.txt"
pin() { grep -E "^$1==" "$work/requirements.txt" | cut -d' ' -f1; }
case "$flavour" in
cpu)
    # The CPU wheels replace torch, torchvision and the CUDA libraries (nvidia-*, triton).
    grep -vE '^(torch|torchvision|triton|nvidia-[a-z0-9-]+)==' "$work/requirements.txt" \
        >"$work/requirements-cpu.txt"
    if ! uv pip install --quiet --python "$venv" --index-url "$cpu_index" \
        "$(pin torch)" "$(pin torchvision)"; then
        echo "error: cannot install CPU-only torch from $cpu_index." >&2
        echo "  Point STUDIO_TORCH_INDEX at a mirror of it, or bundle PyPI's default torch" >&2
        echo "  (CUDA libraries included on Linux, several GB): STUDIO_TORCH=pypi $0" >&2
        exit 1
    fi
    uv pip install --quiet --python "$venv" --no-deps -r "$work/requirements-cpu.txt"
    ;;
pypi) uv pip install --quiet --python "$venv" --no-deps -r "$work/requirements.txt" ;;
*) echo "error: STUDIO_TORCH must be cpu or pypi, not '$flavour'" >&2 && exit 2 ;;
esac
uv pip install --quiet --python "$venv" --no-deps "$root"  # its metadata: runs record its version
"$venv/bin/python" -c "import torch; print('torch', torch.__version__, '(CUDA build)' \
    if torch.version.cuda else '(CPU-only build)')"

echo "== PyInstaller"
t1=$(date +%s)
"$venv/bin/python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$dist" --workpath "$work/pyinstaller" packaging/studio.spec
t2=$(date +%s)
bundle="$dist/Studio"
echo "bundle: $bundle, $(du -sh "$bundle" | cut -f1)" \
    "(torch $(du -sh "$bundle/_internal/torch" | cut -f1)," \
    "CUDA libraries $(du -shc "$bundle"/_internal/nvidia "$bundle"/_internal/triton \
        2>/dev/null | tail -1 | cut -f1))"
echo "time: environment $((t1 - t0)) s, PyInstaller $((t2 - t1)) s"
[ "${SKIP_SMOKE:-0}" = 1 ] && exit 0

echo "== smoke test of the bundle"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export STUDIO_HOME="$scratch/home" TORCH_HOME="$scratch/torch" QT_QPA_PLATFORM=offscreen
"$bundle/studio" --version
STUDIO_SMOKE_T0="$(date +%s.%N)" "$bundle/studio" --smoke-test
sample="$bundle/_internal/studio/resources/sample_data/digits"
"$bundle/studio" train --data "$sample" --epochs 1 --out "$scratch/run" --quiet
echo "smoke test passed; total $(($(date +%s) - t0)) s"
