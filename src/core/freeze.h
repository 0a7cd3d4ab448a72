/*
 * freeze.h: finding and freezing the tree rooted at a process (see
 * freeze.c), and what its processes must not share (unshared.c).
 */
#ifndef CORE_FREEZE_H
#define CORE_FREEZE_H

#include "core/model.h"

/* Fills img->procs with the tree rooted at root (root first, parents before
 * children), every thread of every live process seized and stopped, the
 * main thread first; zombies are recorded with their exit status. On
 * failure, what was seized is in img for the caller to release. */
int freeze_tree(struct ck_image *img, pid_t root);

/* Refuses processes of the frozen tree that share their memory, descriptor
 * table or fs context (see unshared.c). */
int check_unshared(const struct ck_image *img);

#endif
