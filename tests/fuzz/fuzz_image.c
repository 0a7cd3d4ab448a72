/*
 * fuzz_image.c: libFuzzer target for everything restart and show do with
 * an untrusted image before any process exists: the header, the framing,
 * the metadata into the model and its validation, the page records, the
 * trailer, and the printing of the result as text and JSON.
 *
 * Build: make build/tests/fuzz/fuzz_image (clang). Run longer by hand:
 *   build/tests/fuzz/fuzz_image -max_len=300000 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static FILE *out;

	if (fd < 0) {
		fd = memfd_create("image", MFD_CLOEXEC);
		out = fopen("/dev/null", "w");
		if (fd < 0 || !out)
			return 0;
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	lseek(fd, 0, SEEK_SET);
	ckpt_show(fd, out, 0);
	lseek(fd, 0, SEEK_SET);
	ckpt_show(fd, out, CKPT_SHOW_JSON);
	return 0;
}
