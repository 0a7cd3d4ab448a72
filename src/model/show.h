/*
 * show.h: a small printer for `ckpt show`. Callers describe nested objects,
 * lists and fields once; the printer renders them as indented text for
 * people or as JSON. Objects inside lists can be marked compact, which
 * text renders on one line.
 */
#ifndef MODEL_SHOW_H
#define MODEL_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SHOW_MAX_DEPTH 16

struct show_ctx {
	FILE *out;
	bool json;
	int depth;
	struct {
		bool list;
		bool compact;
		unsigned int count;
	} level[SHOW_MAX_DEPTH];
};

void show_init(struct show_ctx *s, FILE *out, bool json);
void show_finish(struct show_ctx *s);
/* key is NULL for items of a list */
void show_obj_begin(struct show_ctx *s, const char *key, bool compact);
void show_obj_end(struct show_ctx *s);
void show_list_begin(struct show_ctx *s, const char *key);
void show_list_end(struct show_ctx *s);
void show_str(struct show_ctx *s, const char *key, const char *value);
void show_fmt(struct show_ctx *s, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void show_u64(struct show_ctx *s, const char *key, uint64_t v);
void show_i64(struct show_ctx *s, const char *key, int64_t v);
void show_hex(struct show_ctx *s, const char *key, uint64_t v);
void show_bool(struct show_ctx *s, const char *key, bool v);

#endif
