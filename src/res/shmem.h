/*
 * shmem.h: shared memory objects (struct ck_shmem, OBJ_SHMEM in the
 * objhash): shared anonymous memory, memfds, files of /dev/shm and System V
 * segments. Each is saved once, its pages with it, however many areas,
 * descriptors and processes reach it. The memory resource (mm.c) maps
 * them and the files resource (files.c) opens them through this header:
 * it is the object type they share, as the objhash is.
 */
#ifndef RES_SHMEM_H
#define RES_SHMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "core/model.h"
#include "img/codec.h"

struct dump_ctx;
struct rst_ctx;

/* ---- checkpoint ---- */

/* The kind of shared memory object a file is (its /proc link reads target;
 * st is its stat), or 0 when it is none: CKPT_SHMEM_MEMFD, CKPT_SHMEM_FILE
 * (on the filesystem of /dev/shm) or CKPT_SHMEM_SYSV. */
uint32_t shmem_kind_of(const char *target, const struct stat *st);
/* The object of that kind behind link (/proc/PID/map_files/A-B or
 * /proc/PID/fd/N), found or added. what names the area or descriptor in
 * messages ("fd 4", "memory 0x1000-0x2000"); a refusal is -EOPNOTSUPP. */
int shmem_collect(struct dump_ctx *ctx, struct ck_proc *p, const char *link, uint32_t kind,
		  const char *what, struct ck_shmem **ret);
/* Writes the pages of every object, before any process's. buf holds chunk bytes. */
int shmem_dump_pages(struct dump_ctx *ctx, struct img_writer *w, void *buf, size_t chunk);

/* ---- restart ---- */

/* A page record of an object: checks and writes it. */
int shmem_restore_pages(struct rst_ctx *ctx, struct img_reader *r, const struct ckpt_rec_pages *h,
			uint64_t bytes, void *buf, size_t chunk);
/* After the trailer: every declared page arrived. */
int shmem_check_all_pages(struct ck_image *img);
/* ckpt's descriptor of a prepared object to map: read-write, or read-only
 * for shared areas that may not write. */
int shmem_map_fd(struct ck_shmem *s, bool rw, int *ret_fd);
/* A new open file description of a prepared object, with open(2) flags. */
int shmem_reopen(struct ck_shmem *s, uint32_t flags);

#endif
