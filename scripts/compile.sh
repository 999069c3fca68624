#!/bin/bash
# Builds dist/cvm and one symlink per program name.
#
#   scripts/compile.sh                 deno compile (needs the network or $DENORT_BIN)
#   scripts/compile.sh --launcher      dist/cvm is a small script running main.ts
#                                      under this machine's deno (tests and CI)
#   scripts/compile.sh --portable DIR  the self-contained tree in DIR (what
#                                      cvm install --launcher --prefix DIR makes)
#
# It never falls back from one to the other by itself: if deno compile
# cannot get its runtime, it says why and fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dist="$root/dist"
mode=compile
portable=
while [ $# -gt 0 ]; do
  case "$1" in
    --launcher) mode=launcher ;;
    --portable=*) mode=portable; portable=${1#--portable=} ;;
    --portable)
      [ $# -ge 2 ] || { echo "compile.sh: --portable needs a directory" >&2; exit 2; }
      mode=portable; portable=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile.sh: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

deno_bin=${DENO:-$(command -v deno || true)}
if [ -z "$deno_bin" ]; then
  echo "compile.sh: no deno on PATH (install it: npm install -g deno@2.9.6, or set \$DENO)" >&2
  exit 1
fi
deno_bin=$(readlink -f "$deno_bin")
# V8's young generation kept small (V8_FLAGS in installer/portable.ts: the
# same for the portable tree's launcher).
v8_flags=--v8-flags=--max-semi-space-size=1

if [ "$mode" = portable ]; then
  # The installer stages and checks the tree; DIR gets its manifest too, so
  # `DIR/bin/cvm install --check --prefix DIR` verifies it after a copy.
  exec "$deno_bin" run --allow-all --quiet --no-prompt --config "$root/deno.json" \
    "$root/main.ts" install --launcher --prefix "$portable"
fi

mkdir -p "$dist"
tmp="$dist/.cvm.tmp.$$"
trap 'rm -f "$tmp"' EXIT

if [ "$mode" = launcher ]; then
  cat > "$tmp" <<LAUNCHER
#!/bin/bash
# cvm launcher: runs main.ts under deno with argv[0] kept, so the program
# symlinks (cvm-pwfile, cvm-testclient, ...) dispatch as a compiled binary would.
exec -a "\$0" "$deno_bin" run --allow-all --quiet --no-prompt $v8_flags --config "$root/deno.json" "$root/main.ts" "\$@"
LAUNCHER
  chmod 755 "$tmp"
  mv -f "$tmp" "$dist/cvm"  # atomic: a running test never sees no dist/cvm
else
  log=$(mktemp)
  if ! (cd "$root" && "$deno_bin" compile --allow-all --no-prompt --quiet \
      "$v8_flags" --output "$tmp" main.ts) >"$log" 2>&1; then
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
