/*
 * helpers.h: processes restart creates to rebuild sessions and groups whose
 * leader has exited (see helpers.c).
 */
#ifndef CORE_HELPERS_H
#define CORE_HELPERS_H

#include "model/model.h"

/* Appends a helper to img->procs for every session and process group of
 * the tree whose leader has exited, and names them as the forker of the
 * session's processes. */
int helpers_add(struct ck_image *img);

#endif
