#!/usr/bin/env bash
# run-all.sh: everything `make check` runs: unit tests, scenario tests and
# a short fuzzing run. The last line is "N passed, N failed".
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
RESULT_FILE=$(mktemp)
export RESULT_FILE

for t in "$BUILD"/tests/unit/*; do
	before=$(wc -l <"$RESULT_FILE")
	"$t"
	if [ "$(wc -l <"$RESULT_FILE")" = "$before" ]; then
		echo "FAIL  $t: crashed"
		echo "0 1" >>"$RESULT_FILE"
	fi
done
# a subreaper reaps what killed trees leave behind
"$BUILD"/tests/subreaper tests/run-scenarios.sh
"$BUILD"/tests/subreaper tests/run-cli.sh
tests/run-fuzz.sh

read -r passed failed < <(awk '{ p += $1; f += $2 } END { print p + 0, f + 0 }' "$RESULT_FILE")
rm -f "$RESULT_FILE"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
