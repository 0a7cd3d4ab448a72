/*
 * hash.h: the image checksum, XXH64 with seed 0, computed incrementally over
 * the stream as it is written or read. A state can be copied and finished
 * without disturbing the running one.
 */
#ifndef IMG_HASH_H
#define IMG_HASH_H

#include <stddef.h>
#include <stdint.h>

struct img_hash {
	uint64_t total;
	uint64_t v[4];
	uint8_t tail[32];
	uint32_t tail_len;
};

void img_hash_init(struct img_hash *h);
void img_hash_update(struct img_hash *h, const void *data, size_t len);
uint64_t img_hash_final(const struct img_hash *h);

#endif
