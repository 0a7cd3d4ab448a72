/*
 * mm.h: the bulk page data of the memory resource, which the orchestrators
 * stream after the metadata: all of it at checkpoint, one record at a time
 * at restart.
 */
#ifndef RES_MM_H
#define RES_MM_H

#include <stddef.h>
#include <stdint.h>
#include "ckpt_image.h"
#include "img/codec.h"

struct dump_ctx;
struct rst_ctx;
struct ck_image;

/* Writes the saved pages of every process and shared memory object. */
int mm_dump_pages(struct dump_ctx *ctx, struct img_writer *w);
/* Reads and checks the fixed part of a page record of len bytes. */
int mm_peek_pages(struct img_reader *r, uint32_t len, struct ckpt_rec_pages *ret);
/* Writes the data of that record into its process or object; buf holds
 * mm_io_chunk() bytes. */
int mm_restore_pages(struct rst_ctx *ctx, struct img_reader *r, const struct ckpt_rec_pages *h,
		     uint32_t len, void *buf);
/* After the trailer: every declared page arrived. */
int mm_check_all_pages(struct ck_image *img);
size_t mm_io_chunk(void);

#endif
