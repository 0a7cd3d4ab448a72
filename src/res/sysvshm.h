/*
 * sysvshm.h: the System V kind of shared memory object (shmget, shmat):
 * what shmem.c asks of it to save a segment and to create it again with
 * the same id, key, mode and owner.
 */
#ifndef RES_SYSVSHM_H
#define RES_SYSVSHM_H

#include <stdbool.h>
#include <sys/types.h>
#include "model/model.h"
#include "model/show.h"

struct dump_ctx;

/* Checkpoint: fills s from segment shmid, reached by process pid through
 * what; refuses what restart cannot rebuild. */
int sysvshm_collect(struct dump_ctx *ctx, struct ck_shmem *s, int shmid, pid_t pid,
		    const char *what);
/* Image: whether a record's own fields (past the common part) make sense. */
bool sysvshm_rec_ok(const struct ckpt_rec_sysv_shm *r);
/* Restart, before anything is created: the id and key are free here
 * (-EEXIST, as for a pid in use). */
int sysvshm_check(const struct ck_shmem *s, pid_t pid);
/* Restart: creates the segment; s->obj.fd then reaches its pages. */
int sysvshm_create(struct ck_shmem *s);
/* Restart, once every process attached it: removes it if it was marked. */
int sysvshm_commit(struct ck_shmem *s);
/* Teardown of the object: at restart, a segment created for a tree that did
 * not start is removed; after checkpoint --kill, a segment only the tree
 * had attached goes with it. */
void sysvshm_release(struct ck_shmem *s);
void sysvshm_show(struct show_ctx *sh, const struct ck_shmem *s);

#endif
