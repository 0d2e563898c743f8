#!/usr/bin/env bash
# Lint: no trap on a path that data or a user's option can reach. Every precondition, assert,
# fatalError, try! and as! in Sources/ must say, in a `// invariant:` comment on its line or one
# of the two lines above, why nothing read from a file, a name or an option can reach it.
# Run by `make test`; exits 1 listing the unexplained ones.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  awk -v file="$file" '
    { line[NR] = $0 }
    /^[[:space:]]*\/\/\// { next }
    /(precondition\(|preconditionFailure\(|assert\(|assertionFailure\(|fatalError\(|try!|as!)/ {
      ok = ($0 ~ /\/\/ invariant:/) || (NR > 1 && line[NR-1] ~ /\/\/ invariant:/) || (NR > 2 && line[NR-2] ~ /\/\/ invariant:/)
      if (!ok) { printf "%s:%d: unexplained trap: %s\n", file, NR, $0; bad = 1 }
    }
    END { exit bad }
  ' "$file" || status=1
done < <(find Sources -name '*.swift' | sort)
if [ "$status" -ne 0 ]; then
  echo "lint-invariants: each trap above needs a '// invariant:' comment saying why no data or option reaches it, or must become a thrown error" >&2
fi
exit "$status"
