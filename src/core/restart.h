/*
 * restart.h: the restart sequence of restart.c, for the public entry points
 * in pidns.c (ckpt_restart(), ckpt_restart_pidns()), which run it here or
 * from inside a new PID namespace.
 */
#ifndef CORE_RESTART_H
#define CORE_RESTART_H

#include <stdbool.h>
#include <sys/types.h>

/* Restarts the image read from in_fd in ckpt's PID namespace; in_pidns:
 * ckpt is the init of a new one (PID 1 is taken). The root's PID goes to
 * *ret_pid. */
int restart_tree(int in_fd, bool in_pidns, pid_t *ret_pid);

#endif
