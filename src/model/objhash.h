/*
 * objhash.h: shared objects, saved once and referenced by id (linux-cr's
 * objhash). At checkpoint, an object is found by its kernel identity (a
 * kind and two keys, such as device and inode, refined by a match function
 * where keys are not unique) and gets the next id; at restart it is found
 * by the id the image gave it.
 */
#ifndef MODEL_OBJHASH_H
#define MODEL_OBJHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum obj_kind {
	OBJ_FILE = 1,
	OBJ_SHMEM = 2,
	OBJ_MAPFILE = 3, /* restart only: a file opened to be mapped */
	OBJ_DIR = 4, /* restart only: a directory to enter */
	OBJ_PIPE = 5, /* a pipe or FIFO: the object behind the descriptions of its ends */
	OBJ_GONE_DIR = 6, /* restart only: a removed directory to enter, by its saved identity */
	OBJ_DELETED = 7, /* the content of a deleted file (res/fd_deleted.c) */
	OBJ_SYSV_SEM = 8, /* a System V semaphore set (res/sysvsem.c) */
	OBJ_SYSV_MSG = 9, /* a System V message queue (res/sysvmsg.c) */
};

struct obj_ops; /* what other resources may do with it (res/res.h), or NULL */

struct ck_obj {
	uint32_t id;
	enum obj_kind kind;
	const struct obj_ops *ops;
	uint64_t key[2];
	struct ck_obj *next_in_bucket;
	bool written; /* checkpoint: its record is in the image */
	int fd; /* restart: ckpt's own descriptor for it, or -1 */
	void (*release)(struct ck_obj *obj);
};

struct objhash {
	struct ck_obj **by_id; /* index id - 1 */
	size_t count, cap;
	struct ck_obj **buckets;
	size_t nbuckets;
};

void objhash_init(struct objhash *h);
/* Frees every object through its release function. */
void objhash_release(struct objhash *h);
/* Adds obj under the next id (checkpoint). */
int objhash_add(struct objhash *h, struct ck_obj *obj);
/* Adds obj under obj->id, which must be new (restart). */
int objhash_insert(struct objhash *h, struct ck_obj *obj);
struct ck_obj *objhash_by_id(const struct objhash *h, uint32_t id);
/* The object of this kind and keys for which match (if given) is true. */
struct ck_obj *objhash_find(const struct objhash *h, enum obj_kind kind, uint64_t k0, uint64_t k1,
			    bool (*match)(struct ck_obj *obj, void *arg), void *arg);

#endif
