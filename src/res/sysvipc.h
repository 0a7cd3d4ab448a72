/*
 * sysvipc.h: what the System V semaphore sets (sysvsem.c) and message
 * queues (sysvmsg.c) share: which of them belong to the tree, and
 * creating one again under the id it had.
 */
#ifndef RES_SYSVIPC_H
#define RES_SYSVIPC_H

#include <stdbool.h>
#include <sys/types.h>
#include "model/model.h"

/* The first process of the tree, in tree order, that is alive (not a
 * zombie) and among pids: the one whose section holds the object's
 * record. 0 when none is. */
pid_t sysvipc_holder(const struct ck_image *img, const pid_t *pids, size_t n);
/* Whether pid is a process of the tree that runs at restart. */
bool sysvipc_is_live(const struct ck_image *img, pid_t pid);
/* Restart: the id the next object of this kind gets ("sem" or "msg"),
 * -1 for any; 0 or -errno. */
int sysvipc_next_id(const char *kind, int id);

#endif
