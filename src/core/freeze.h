/*
 * freeze.h: finding and freezing the tree rooted at a process (see
 * freeze.c).
 */
#ifndef CORE_FREEZE_H
#define CORE_FREEZE_H

#include "core/model.h"

/* Fills img->procs with the tree rooted at root (root first, parents before
 * children), every thread of every live process seized and stopped, the
 * main thread first; zombies are recorded with their exit status. On
 * failure, what was seized is in img for the caller to release. */
int freeze_tree(struct ck_image *img, pid_t root);

#endif
