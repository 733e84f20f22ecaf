#!/usr/bin/env bash
# Synthesizes every example pipeline (offline: a new MSK Serverless cluster and VPC, the
# default) and runs cfn-lint on the CloudFormation templates. Exits non-zero on any cfn-lint
# error (warnings are printed and allowed; pass CFN_LINT_STRICT=1 to fail on them too).
#
#   bash scripts/cfn-lint.sh            # all examples
#   bash scripts/cfn-lint.sh sum uppercase
#
# cfn-lint comes from PyPI into .local/venv (git-ignored) on first use, pinned below.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION=1.58.0
VENV=.local/venv
OUT=cdk.out/cfn-lint

if [ ! -x "$VENV/bin/cfn-lint" ] || ! "$VENV/bin/cfn-lint" --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  echo "cfn-lint: installing cfn-lint==$CFN_LINT_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi

if [ "$#" -gt 0 ]; then names=("$@"); else names=(); for f in examples/*.ts; do names+=("$(basename "$f" .ts)"); done; fi

templates=()
for name in "${names[@]}"; do
  out="$OUT/$name"
  rm -rf "$out"
  echo "cfn-lint: synth examples/$name.ts -> $out" >&2
  npx --no-install cdk synth --quiet -c "pipeline=examples/$name.ts" -o "$out" >/dev/null
  for t in "$out"/*.template.json; do templates+=("$t"); done
done

# cfn-lint exit codes are a bit mask: 2 = error, 4 = warning, 8 = informational.
set +e
"$VENV/bin/cfn-lint" --format parseable -- "${templates[@]}"
rc=$?
set -e
if [ $((rc & 2)) -ne 0 ] || [ $((rc & 1)) -ne 0 ]; then
  echo "cfn-lint: errors in ${#templates[@]} template(s) (exit $rc)" >&2
  exit 1
fi
if [ "${CFN_LINT_STRICT:-0}" = 1 ] && [ $((rc & 4)) -ne 0 ]; then
  echo "cfn-lint: warnings and CFN_LINT_STRICT=1 (exit $rc)" >&2
  exit 1
fi
echo "cfn-lint: ${#templates[@]} template(s) clean of errors (cfn-lint $CFN_LINT_VERSION, exit $rc)" >&2
