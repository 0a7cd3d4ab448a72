/*
 * freeze.h: finding and freezing the tree rooted at a process (see
 * freeze.c), and what its processes must not share (unshared.c).
 */
#ifndef CORE_FREEZE_H
#define CORE_FREEZE_H

#include "model/model.h"

/* Fills img->procs with the tree rooted at root (root first, parents before
 * children), every thread of every live process seized and stopped, the
 * main thread first; zombies are recorded with their exit status. Each live
 * process's live->stat is its /proc stat as read once all was frozen; a
 * process in a group stop is flagged CKPT_PROC_STOPPED. Waits for a stop
 * end after a deadline (-ETIMEDOUT, or -EOPNOTSUPP for a vfork whose child
 * neither calls exec nor exits) or on ckpt_interrupt() (-ECANCELED). On
 * failure, what was seized is in img for the caller to release: the
 * threads still stopping (rt.stopping) last, once the others run. */
int freeze_tree(struct ck_image *img, pid_t root);

/* Lets go the tasks the kernel attached to ckpt when a thread being seized
 * started them, if no listing found them before the checkpoint ended (it
 * failed): they wait in their first stop, and are ckpt's to release. */
void freeze_let_go_started(const struct ck_image *img);

/* Refuses processes of the frozen tree that share their memory or fs
 * context, or a descriptor table restart cannot share again; marks those
 * that have their parent's (see unshared.c). */
int check_unshared(struct ck_image *img);

#endif
