/*
 * hash.c: XXH64, implemented from the algorithm's public description. Four
 * independent lanes consume 32-byte stripes; the tail and the avalanche are
 * applied only when a value is asked for.
 */
#include <string.h>
#include "img/hash.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t read64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t read32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t lane_round(uint64_t acc, uint64_t input)
{
	acc += input * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

static inline uint64_t merge_round(uint64_t acc, uint64_t val)
{
	acc ^= lane_round(0, val);
	return acc * P1 + P4;
}

void img_hash_init(struct img_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->v[0] = P1 + P2;
	h->v[1] = P2;
	h->v[2] = 0;
	h->v[3] = -P1;
}

static const uint8_t *consume_stripes(uint64_t v[4], const uint8_t *p, const uint8_t *end)
{
	uint64_t v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];

	while (end - p >= 32) {
		v0 = lane_round(v0, read64(p));
		v1 = lane_round(v1, read64(p + 8));
		v2 = lane_round(v2, read64(p + 16));
		v3 = lane_round(v3, read64(p + 24));
		p += 32;
	}
	v[0] = v0;
	v[1] = v1;
	v[2] = v2;
	v[3] = v3;
	return p;
}

void img_hash_update(struct img_hash *h, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;

	if (!len)
		return;
	h->total += len;
	if (h->tail_len + len < 32) {
		memcpy(h->tail + h->tail_len, p, len);
		h->tail_len += len;
		return;
	}
	if (h->tail_len) {
		size_t fill = 32 - h->tail_len;

		memcpy(h->tail + h->tail_len, p, fill);
		consume_stripes(h->v, h->tail, h->tail + 32);
		p += fill;
		h->tail_len = 0;
	}
	p = consume_stripes(h->v, p, end);
	h->tail_len = end - p;
	memcpy(h->tail, p, h->tail_len);
}

uint64_t img_hash_final(const struct img_hash *h)
{
	const uint8_t *p = h->tail, *end = p + h->tail_len;
	uint64_t acc;

	if (h->total >= 32) {
		acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
		for (int i = 0; i < 4; i++)
			acc = merge_round(acc, h->v[i]);
	} else {
		acc = P5;
	}
	acc += h->total;
	for (; end - p >= 8; p += 8) {
		acc ^= lane_round(0, read64(p));
		acc = rotl(acc, 27) * P1 + P4;
	}
	if (end - p >= 4) {
		acc ^= (uint64_t)read32(p) * P1;
		acc = rotl(acc, 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++) {
		acc ^= *p * P5;
		acc = rotl(acc, 11) * P1;
	}
	acc ^= acc >> 33;
	acc *= P2;
	acc ^= acc >> 29;
	acc *= P3;
	acc ^= acc >> 32;
	return acc;
}
