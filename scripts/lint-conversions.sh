#!/usr/bin/env bash
# Lint: no unchecked conversion of a floating-point value to an integer in Sources/.
# `Int(x)` of a Double or Float traps on NaN, ±inf and values past the type's range, and values
# from files and options (a flux of 1e300, a NaN coordinate, a size in scientific notation) reach
# such conversions. A line that converts to an integer type and computes in floating point
# (rounded, floor, ceil, squareRoot, log, pow, Double(…), Float(…), a decimal literal, .doubles)
# must use a checked form — `Int(exactly:)` (nil when not representable), `Int(flooring:clampedTo:)`
# (Sky: clamps, NaN to the lower bound) — or say in a `// invariant:` comment on its line or one of
# the two lines above why the value is finite and in range. Run by `make lint`; exits 1 listing them.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  awk -v file="$file" '
    { line[NR] = $0 }
    /^[[:space:]]*\/\// { next }
    {
      s = $0
      sub(/\/\/.*$/, "", s)                       # code only
      gsub(/"([^"\\]|\\.)*"/, "\"\"", s)          # no string contents
      conv = "(^|[^A-Za-z0-9_.])(U?Int(8|16|32|64)?|CInt|CLong|CLongLong|CUnsignedInt|CUnsignedLong|hsize_t|off_t)\\("
      if (s !~ conv) next
      t = s
      gsub(/(U?Int(8|16|32|64)?|CInt|CLong|CLongLong|CUnsignedInt|CUnsignedLong|hsize_t|off_t)\((exactly|clamping|truncatingIfNeeded|bitPattern|littleEndian|bigEndian|flooring|integerLiteral):/, "", t)
      if (t !~ conv) next
      gsub(/(Float|Double)\(bitPattern:/, "", t)
      float = "\\.rounded\\(|(^|[^A-Za-z0-9_])(floor|ceil|round|sqrt|log|log10|log2|pow|exp|Double|Float|CDouble|CFloat)\\(|\\.squareRoot\\(|\\.doubles|(^|[^A-Za-z0-9_.$])[0-9]+\\.[0-9]|[0-9]e[0-9-]"
      if (t !~ float) next
      ok = ($0 ~ /\/\/ invariant:/) || (NR > 1 && line[NR-1] ~ /\/\/ invariant:/) || (NR > 2 && line[NR-2] ~ /\/\/ invariant:/)
      if (!ok) { printf "%s:%d: unchecked float-to-integer conversion: %s\n", file, NR, $0; bad = 1 }
    }
    END { exit bad }
  ' "$file" || status=1
done < <(find Sources -name '*.swift' | sort)
if [ "$status" -ne 0 ]; then
  echo "lint-conversions: use Int(exactly:) or Int(flooring:clampedTo:), or add '// invariant:' saying why the value is finite and in range" >&2
fi
exit "$status"
