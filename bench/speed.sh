# speed.sh: how fast checkpoint and restart of one process go (sourced by
# bench/run.sh): a trivial process (sleep), then 1 and 4 GiB of touched
# anonymous memory with the image on tmpfs, next to this machine's own
# limit measured in the same run: the bandwidth of simply writing and
# reading as many bytes to a tmpfs file.

echo "trivial process (sleep), 20 runs:"
: >"$WORK/cycles"
for i in $(seq 20); do
	start sleep 1000
	cycle
done
printf '  checkpoint %7.2f ms   restart %7.2f ms   (goal: each under 10 ms)\n' "$(col 1)" "$(col 3)"
echo

for spec in "1024 5" "4096 3"; do
	set -- $spec
	mib=$1 runs=$2
	: >"$WORK/cycles"
	for i in $(seq "$runs"); do
		start "$B/memhog" "$mib"
		cycle "$mib"
	done
	echo "$mib MiB of touched anonymous memory, image on tmpfs, $runs runs:"
	# per run: GB/s of checkpoint and restart, and their ratios to the
	# tmpfs bandwidth measured next to them; medians of each
	awk -v mib="$mib" '{
		gb = mib * 1048576 / 1e9
		c = gb / ($1 / 1000); r = gb / ($3 / 1000)
		print c, r, $5, $6, 100 * c / $5, 100 * r / $5, 100 * r / $6, $1, $3, $2, $4
	}' "$WORK/cycles" >"$WORK/rates"
	m() { awk -v c="$1" '{ print $c }' "$WORK/rates" | median; }
	printf '  tmpfs write %6.2f GB/s   read %6.2f GB/s   (this machine, measured next to each run)\n' \
		"$(m 3)" "$(m 4)"
	printf '  checkpoint  %6.2f GB/s   %4.0f%% of tmpfs write   (%.0f ms, ckpt peak RSS %d MiB)\n' \
		"$(m 1)" "$(m 5)" "$(m 8)" "$(($(m 10) / 1024))"
	printf '  restart     %6.2f GB/s   %4.0f%% of tmpfs write, %4.0f%% of read   (%.0f ms, ckpt peak RSS %d MiB)\n' \
		"$(m 2)" "$(m 6)" "$(m 7)" "$(m 9)" "$(($(m 11) / 1024))"
	echo "  goals: each at 50% or more of tmpfs write bandwidth; ckpt memory bounded"
	echo
done
