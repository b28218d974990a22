# Sourced by every script and by the Makefile's recipes: the one place that names where the
# project's own tools live (.tools/ at the repository root unless ESWI_TOOLS_DIR says otherwise)
# and puts them first on PATH, so a shell with only the system directories finds them.
# uv never downloads a Python: the system's 3.11 is the one the lock is for.
ESWI_TOOLS_DIR="${ESWI_TOOLS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools}"
export ESWI_TOOLS_DIR
case ":$PATH:" in
  *":$ESWI_TOOLS_DIR/bin:"*) ;;
  *) export PATH="$ESWI_TOOLS_DIR/bin:$PATH" ;;
esac
export UV_PYTHON_DOWNLOADS=never
# Trust what the machine trusts (as pip, apt and Maven do), so a corporate or proxy root in the
# system store works as well as the public ones.
export UV_SYSTEM_CERTS=1
