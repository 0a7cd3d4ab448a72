/*
 * fault.h: named failure points for tests. CKPT_FAULT holds a comma-separated
 * list of point names; a listed point makes its operation fail as if the
 * system had refused it, so tests can prove every failure path leaves the
 * target intact (checkpoint) or nothing behind (restart).
 */
#ifndef UTIL_FAULT_H
#define UTIL_FAULT_H

#include <stdbool.h>

bool fault_hit(const char *point);

#endif
