/*
 * shmem.h: the varieties of shared memory object (shmem.c) that hold state
 * of their own beyond a file's, each behind one struct shmem_variety, which
 * shmem.c calls by the object's kind: System V segments (sysvshm.c).
 */
#ifndef RES_SHMEM_H
#define RES_SHMEM_H

#include <stdbool.h>
#include <sys/types.h>
#include "res/res.h"

struct shmem_variety {
	uint32_t kind; /* CKPT_SHMEM_* */
	/* checkpoint: fills s from the object numbered id (a shmid), reached
	 * by process pid through what; refuses what restart cannot rebuild */
	int (*collect)(struct dump_ctx *ctx, struct ck_shmem *s, int id, pid_t pid,
		       const char *what);
	/* image: whether the variety's own record fields make sense */
	bool (*rec_ok)(const void *rec);
	/* restart, before anything is created: this machine can take it
	 * (-EEXIST, as for a pid in use) */
	int (*check)(const struct ck_shmem *s, pid_t pid);
	/* restart: creates it; s->obj.fd then reaches its pages */
	int (*create)(struct ck_shmem *s);
	/* restart, once every process mapped it: its final state */
	int (*commit)(struct ck_shmem *s);
	/* teardown: what a failed restart created goes; after checkpoint
	 * --kill, what only the tree used goes with it */
	void (*release)(struct ck_shmem *s);
	void (*show)(struct show_ctx *sh, const struct ck_shmem *s);
};

extern const struct shmem_variety sysvshm_variety;

#endif
