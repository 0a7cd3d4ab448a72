/*
 * child.h: the root of the new tree, between its creation by clone3 and its
 * jump into the restorer blob. Every other process of the tree is created
 * by the blob itself.
 */
#ifndef CORE_CHILD_H
#define CORE_CHILD_H

#include "model/plan.h"

/* The line the root writes on its report pipe once it waits for the go. */
#define CHILD_READY "R"

__attribute__((noreturn)) void child_main(const struct blob_plan *bp, size_t list, int report_fd,
					  int go_fd, pid_t ckpt_pid);

#endif
