#!/bin/bash
# Builds dist/cvm and one symlink per program name.
#
#   scripts/compile.sh             deno compile (needs the network or $DENORT_BIN)
#   scripts/compile.sh --launcher  dist/cvm is a small script running main.ts
#                                  under this machine's deno (tests and CI)
#
# It never falls back from one to the other by itself: if deno compile
# cannot get its runtime, it says why and fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dist="$root/dist"
mode=compile
for arg in "$@"; do
  case "$arg" in
    --launcher) mode=launcher ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile.sh: unknown option: $arg" >&2; exit 2 ;;
  esac
done

deno_bin=${DENO:-$(command -v deno || true)}
if [ -z "$deno_bin" ]; then
  echo "compile.sh: no deno on PATH (install it: npm install -g deno@2.9.6, or set \$DENO)" >&2
  exit 1
fi
deno_bin=$(readlink -f "$deno_bin")
mkdir -p "$dist"
tmp="$dist/.cvm.tmp.$$"
trap 'rm -f "$tmp"' EXIT

if [ "$mode" = launcher ]; then
  cat > "$tmp" <<LAUNCHER
#!/bin/bash
# cvm launcher: runs main.ts under deno with argv[0] kept, so the program
# symlinks (cvm-pwfile, cvm-testclient, ...) dispatch as a compiled binary would.
exec -a "\$0" "$deno_bin" run --allow-all --quiet --no-prompt --config "$root/deno.json" "$root/main.ts" "\$@"
LAUNCHER
  chmod 755 "$tmp"
  mv -f "$tmp" "$dist/cvm"  # atomic: a running test never sees no dist/cvm
else
  log=$(mktemp)
  if ! (cd "$root" && "$deno_bin" compile --allow-all --no-prompt --quiet \
      --output "$tmp" main.ts) >"$log" 2>&1; then
    echo "compile.sh: deno compile failed:" >&2
    sed 's/^/  /' "$log" >&2
    if grep -qiE 'denort|download|dns|connect|network' "$log"; then
      echo "compile.sh: deno compile needs its runtime (denort), downloaded on first use;" >&2
      echo "  this machine cannot reach it. Set \$DENORT_BIN to a denort binary of deno" >&2
      echo "  $("$deno_bin" --version | head -1 | cut -d' ' -f2), or run: scripts/compile.sh --launcher" >&2
    fi
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  mv -f "$tmp" "$dist/cvm"
fi

# One symlink per program, relative so dist/ can move as a whole.
names=$("$dist/cvm" --list)
for name in $names; do
  ln -sfn cvm "$dist/$name"
done
echo "compile.sh: $mode build: $dist/cvm and $(echo "$names" | wc -w) program links"
