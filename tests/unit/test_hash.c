/*
 * test_hash.c: the image checksum is XXH64 (seed 0): known values, and the
 * same value however the input is split into updates.
 */
#include "img/hash.h"
#include "lib/unit.h"

static uint64_t hash_of(const void *data, size_t len)
{
	struct img_hash h;

	img_hash_init(&h);
	img_hash_update(&h, data, len);
	return img_hash_final(&h);
}

TEST(known_values)
{
	char x[1000];

	memset(x, 'x', sizeof(x));
	T_EQX(hash_of("", 0), 0xef46db3751d8e999ULL);
	T_EQX(hash_of("a", 1), 0xd24ec4f1a98c6e5bULL);
	T_EQX(hash_of("abc", 3), 0x44bc2cf5ad770999ULL);
	T_EQX(hash_of("Nobody inspects the spammish repetition", 39), 0xfbcea83c8a378bf1ULL);
	T_EQX(hash_of(x, sizeof(x)), 0x4cb9a3b69cb700e1ULL);
}

TEST(split_updates)
{
	unsigned char buf[4099];
	uint64_t whole;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	whole = hash_of(buf, sizeof(buf));
	for (size_t step = 1; step < 70; step += 3) {
		struct img_hash h;

		img_hash_init(&h);
		for (size_t off = 0; off < sizeof(buf); off += step)
			img_hash_update(&h, buf + off,
					off + step > sizeof(buf) ? sizeof(buf) - off : step);
		T_EQX(img_hash_final(&h), whole);
	}
}

TEST(final_does_not_disturb)
{
	struct img_hash h;

	img_hash_init(&h);
	img_hash_update(&h, "ab", 2);
	T_EQX(img_hash_final(&h), hash_of("ab", 2));
	img_hash_update(&h, "c", 1);
	T_EQX(img_hash_final(&h), hash_of("abc", 3));
}

int main(void)
{
	unit_file = "unit/hash";
	RUN(known_values);
	RUN(split_updates);
	RUN(final_does_not_disturb);
	return unit_done();
}
