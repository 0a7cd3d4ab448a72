# common.sh: shell helpers shared by the test runners.

# exec_clean CMD...: runs CMD with only fds 0-2 open, as a user's shell
# would start it (the test environment may leak descriptors).
exec_clean() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
	done
	exec "$@"
}
