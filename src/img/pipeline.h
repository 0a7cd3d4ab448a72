/*
 * pipeline.h: background hashing and writing for an output stream. The
 * stream fills one slot of a small ring of buffers while a worker thread
 * hashes the previous ones (in order) and writes them to the descriptor, so
 * copying data out of the target and writing it to the image overlap.
 */
#ifndef IMG_PIPELINE_H
#define IMG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include "img/hash.h"

#define PIPELINE_SLOT (1U << 20)

struct img_pipeline;

/* Starts the worker; hash is updated by it, and may be read only after
 * pipeline_drain(). */
int pipeline_start(struct img_pipeline **ret, int fd, struct img_hash *hash);
/* The slot the producer fills, PIPELINE_SLOT bytes. */
uint8_t *pipeline_slot(struct img_pipeline *p);
/* Hands the first len bytes of the current slot to the worker and makes
 * the next slot current, waiting for one to be free. Returns the worker's
 * error, if it had one. */
int pipeline_submit(struct img_pipeline *p, size_t len);
/* Waits until everything submitted is hashed and written. */
int pipeline_drain(struct img_pipeline *p);
/* Stops the worker (abandoning what is left if asked to) and frees. */
void pipeline_stop(struct img_pipeline *p);

#endif
