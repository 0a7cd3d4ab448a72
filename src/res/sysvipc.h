/*
 * sysvipc.h: what the System V semaphore sets (sysvsem.c) and message
 * queues (sysvmsg.c) share: which of them belong to the tree, and
 * creating one again under the id it had.
 */
#ifndef RES_SYSVIPC_H
#define RES_SYSVIPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "model/model.h"

/* The first process of the tree, in tree order, that is alive (not a
 * zombie) and among pids: the one whose section holds the object's
 * record. 0 when none is. */
pid_t sysvipc_holder(const struct ck_image *img, const pid_t *pids, size_t n);
/* Whether pid is a process of the tree that runs at restart. */
bool sysvipc_is_live(const struct ck_image *img, pid_t pid);
/* Restart, before anything is created: an object of this kind (what:
 * "semaphore set", "message queue") that needs id and key cannot be made
 * beside one in use with in_use_id and in_use_key: -EEXIST, logged (a key
 * of IPC_PRIVATE is never in the way). */
int sysvipc_check_free(pid_t pid, const char *what, int id, int32_t key, int in_use_id,
		       int32_t in_use_key);
/* Restart: the id the next object of this kind gets ("sem" or "msg"),
 * -1 for any; 0 or -errno. */
int sysvipc_next_id(const char *kind, int id);

#endif
