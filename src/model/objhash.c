/*
 * objhash.c: an id-indexed array of objects plus a chained hash on keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/objhash.h"

void objhash_init(struct objhash *h)
{
	memset(h, 0, sizeof(*h));
}

void objhash_release(struct objhash *h)
{
	for (size_t i = 0; i < h->count; i++)
		if (h->by_id[i] && h->by_id[i]->release)
			h->by_id[i]->release(h->by_id[i]);
	free(h->by_id);
	free(h->buckets);
	objhash_init(h);
}

static size_t bucket_of(const struct objhash *h, enum obj_kind kind, uint64_t k0, uint64_t k1)
{
	uint64_t x = (k0 * 0x9E3779B97F4A7C15ULL) ^ (k1 + 0x632BE59BD9B4E019ULL) ^ kind;

	x ^= x >> 31;
	return x % h->nbuckets;
}

static int rehash(struct objhash *h)
{
	size_t n = h->nbuckets ? h->nbuckets * 4 : 64;
	struct ck_obj **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
	for (size_t i = 0; i < h->count; i++) {
		struct ck_obj *o = h->by_id[i];
		size_t k;

		if (!o)
			continue;
		k = bucket_of(h, o->kind, o->key[0], o->key[1]);
		o->next_in_bucket = h->buckets[k];
		h->buckets[k] = o;
	}
	return 0;
}

static int place(struct objhash *h, struct ck_obj *obj)
{
	size_t k;

	if (obj->id > h->cap) {
		size_t cap = h->cap ? h->cap : 64;
		struct ck_obj **n;

		while (cap < obj->id)
			cap *= 2;
		n = realloc(h->by_id, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + h->cap, 0, (cap - h->cap) * sizeof(*n));
		h->by_id = n;
		h->cap = cap;
	}
	if (obj->id > h->count)
		h->count = obj->id;
	h->by_id[obj->id - 1] = obj;
	if (h->count * 2 > h->nbuckets) {
		obj->next_in_bucket = NULL;
		return rehash(h);
	}
	k = bucket_of(h, obj->kind, obj->key[0], obj->key[1]);
	obj->next_in_bucket = h->buckets[k];
	h->buckets[k] = obj;
	return 0;
}

int objhash_add(struct objhash *h, struct ck_obj *obj)
{
	obj->id = (uint32_t)h->count + 1;
	return place(h, obj);
}

int objhash_insert(struct objhash *h, struct ck_obj *obj)
{
	if (!obj->id || obj->id > (1U << 24) || objhash_by_id(h, obj->id))
		return -EEXIST;
	return place(h, obj);
}

struct ck_obj *objhash_by_id(const struct objhash *h, uint32_t id)
{
	if (!id || id > h->count)
		return NULL;
	return h->by_id[id - 1];
}

struct ck_obj *objhash_find(const struct objhash *h, enum obj_kind kind, uint64_t k0, uint64_t k1,
			    bool (*match)(struct ck_obj *obj, void *arg), void *arg)
{
	if (!h->nbuckets)
		return NULL;
	for (struct ck_obj *o = h->buckets[bucket_of(h, kind, k0, k1)]; o; o = o->next_in_bucket)
		if (o->kind == kind && o->key[0] == k0 && o->key[1] == k1 &&
		    (!match || match(o, arg)))
			return o;
	return NULL;
}
