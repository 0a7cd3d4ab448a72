#!/bin/bash
# sh_pipeline.sh: a shell pipeline, producer | filter | consumer, streaming
# 500 MB through two pipes while it is checkpointed. Every member is in
# the tree, so both pipes are restored as pipes (the members hold them on
# their descriptors 0 and 1): the consumer's checksum must be that of the
# whole stream, and it must see the end of the stream, which it only does
# when no stray write end survives the restart. It ends by itself.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

expected=2b9923b3196318dc6030918d84e0af1df3096062eef2642ffb93d1b1ca47c57f
rm -f sum
yes | head -c 500000000 | sha256sum >sum &
: >ready
wait $! || fail "the pipeline failed"
read -r got rest <sum
[ "$got" = "$expected" ] || fail "checksum $got, expected $expected"
echo PASS >&2
exit 0
