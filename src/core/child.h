/*
 * child.h: the new process's side of restart, between its creation by
 * clone3 and its jump into the restorer blob.
 */
#ifndef CORE_CHILD_H
#define CORE_CHILD_H

#include "res/res.h"

/* Line the child writes on its report pipe when it waits for the go. */
#define CHILD_READY "R"

__attribute__((noreturn)) void child_main(struct rst_ctx *ctx, struct ck_proc *p, pid_t ckpt_pid);

#endif
