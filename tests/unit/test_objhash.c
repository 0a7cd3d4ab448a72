/*
 * test_objhash.c: objects by key (with a match function where keys are not
 * unique) and by id; ids from an image must be new.
 */
#include <errno.h>
#include "model/objhash.h"
#include "lib/unit.h"

static int released;

static void release(struct ck_obj *o)
{
	released++;
	free(o);
}

static struct ck_obj *obj(enum obj_kind kind, uint64_t k0, uint64_t k1)
{
	struct ck_obj *o = calloc(1, sizeof(*o));

	o->kind = kind;
	o->key[0] = k0;
	o->key[1] = k1;
	o->release = release;
	return o;
}

static bool match_id(struct ck_obj *o, void *arg)
{
	return o->id == *(uint32_t *)arg;
}

TEST(add_and_find)
{
	struct objhash h;
	uint32_t want = 2;

	objhash_init(&h);
	for (int i = 0; i < 1000; i++)
		T_EQ(objhash_add(&h, obj(OBJ_FILE, (uint64_t)i / 2, 7)), 0);
	T_EQ(h.count, 1000);
	T_EQ(objhash_by_id(&h, 1)->key[0], 0);
	T_EQ(objhash_by_id(&h, 1000)->key[0], 499);
	T_OK(!objhash_by_id(&h, 0));
	T_OK(!objhash_by_id(&h, 1001));
	T_OK(objhash_find(&h, OBJ_FILE, 0, 7, NULL, NULL));
	T_OK(!objhash_find(&h, OBJ_SHMEM, 0, 7, NULL, NULL));
	T_OK(!objhash_find(&h, OBJ_FILE, 0, 8, NULL, NULL));
	T_EQ(objhash_find(&h, OBJ_FILE, 0, 7, match_id, &want)->id, 2);
	want = 3;
	T_OK(!objhash_find(&h, OBJ_FILE, 0, 7, match_id, &want));
	released = 0;
	objhash_release(&h);
	T_EQ(released, 1000);
}

TEST(insert_by_id)
{
	struct objhash h;
	struct ck_obj *a = obj(OBJ_SHMEM, 1, 1), *b = obj(OBJ_SHMEM, 2, 2);
	struct ck_obj *c = obj(OBJ_SHMEM, 3, 3);

	objhash_init(&h);
	a->id = 5;
	b->id = 5;
	c->id = 0;
	T_EQ(objhash_insert(&h, a), 0);
	T_EQ(objhash_insert(&h, b), -EEXIST);
	T_EQ(objhash_insert(&h, c), -EEXIST);
	T_OK(objhash_by_id(&h, 5) == a);
	T_OK(!objhash_by_id(&h, 4));
	free(b);
	free(c);
	objhash_release(&h);
}

int main(void)
{
	unit_file = "unit/objhash";
	RUN(add_and_find);
	RUN(insert_by_id);
	return unit_done();
}
