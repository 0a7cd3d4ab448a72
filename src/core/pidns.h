/*
 * pidns.h: restart inside a new PID namespace (ckpt_restart_pidns(), in
 * pidns.c). The namespace's init runs the ordinary restart from inside, so
 * the rest of the restart code sees the namespace's PIDs and needs no
 * translation; these are the two places restart.c knows of it.
 */
#ifndef CORE_PIDNS_H
#define CORE_PIDNS_H

#include "core/model.h"

/* Internal ckpt_restart() flag: the caller is the init of a new namespace. */
#define RESTART_IN_PIDNS (1U << 31)

/* What a restart inside a new namespace cannot take (PID 1 is init's). */
int pidns_check_image(const struct ck_image *img);

#endif
