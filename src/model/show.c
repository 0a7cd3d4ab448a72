/*
 * show.c: text and JSON rendering for `ckpt show`.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include "model/show.h"

void show_init(struct show_ctx *s, FILE *out, bool json)
{
	s->out = out;
	s->json = json;
	s->depth = 0;
	s->level[0].list = false;
	s->level[0].compact = false;
	s->level[0].count = 0;
	if (json)
		fputc('{', out);
}

void show_finish(struct show_ctx *s)
{
	if (s->json)
		fputs("}\n", s->out);
}

static void json_string(FILE *out, const char *v)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void indent(struct show_ctx *s)
{
	for (int i = 0; i < s->depth; i++)
		fputs("  ", s->out);
}

/* Starts an entry at the current level: separators, indentation, key. */
static void entry(struct show_ctx *s, const char *key, bool container)
{
	typeof(s->level[0]) *lv = &s->level[s->depth];
	bool first = lv->count++ == 0;

	if (s->json) {
		if (!first)
			fputc(',', s->out);
		if (key && !lv->list) {
			json_string(s->out, key);
			fputc(':', s->out);
		}
		return;
	}
	if (lv->compact) {
		if (!first)
			fputc(' ', s->out);
		if (key)
			fprintf(s->out, "%s=", key);
		return;
	}
	if (lv->list) {
		indent(s);
		fputs("- ", s->out);
		return;
	}
	/* the first field of an object that is a list item shares the "- " line */
	if (!(first && s->depth > 0 && s->level[s->depth - 1].list))
		indent(s);
	if (key)
		fprintf(s->out, container ? "%s:\n" : "%s: ", key);
}

static void push(struct show_ctx *s, bool list, bool compact)
{
	if (s->depth + 1 >= SHOW_MAX_DEPTH)
		abort();
	s->depth++;
	s->level[s->depth].list = list;
	s->level[s->depth].compact = compact;
	s->level[s->depth].count = 0;
}

void show_obj_begin(struct show_ctx *s, const char *key, bool compact)
{
	bool in_list = s->level[s->depth].list;

	if (s->json) {
		entry(s, key, true);
		fputc('{', s->out);
		push(s, false, compact);
		return;
	}
	entry(s, key, true);
	if (s->level[s->depth].compact) {
		/* inside a one-line object: braces keep its fields apart */
		fputc('{', s->out);
		push(s, false, true);
		return;
	}
	push(s, false, compact && in_list);
}

void show_obj_end(struct show_ctx *s)
{
	bool compact = s->level[s->depth].compact;
	bool empty = s->level[s->depth].count == 0;

	s->depth--;
	if (s->json || (compact && s->level[s->depth].compact))
		fputc('}', s->out);
	else if (compact || (empty && s->level[s->depth].list))
		fputc('\n', s->out);
}

void show_list_begin(struct show_ctx *s, const char *key)
{
	bool compact = !s->json && s->level[s->depth].compact;

	entry(s, key, true);
	if (s->json || compact)
		fputc('[', s->out);
	/* a list inside a one-line object stays on its line */
	push(s, true, compact);
}

void show_list_end(struct show_ctx *s)
{
	bool compact = s->level[s->depth].compact;

	s->depth--;
	if (s->json || compact)
		fputc(']', s->out);
}

static void end_scalar(struct show_ctx *s)
{
	if (!s->json && !s->level[s->depth].compact)
		fputc('\n', s->out);
}

void show_str(struct show_ctx *s, const char *key, const char *value)
{
	entry(s, key, false);
	if (s->json)
		json_string(s->out, value ? value : "");
	else
		fputs(value ? value : "", s->out);
	end_scalar(s);
}

void show_fmt(struct show_ctx *s, const char *key, const char *fmt, ...)
{
	char *buf = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&buf, fmt, ap) < 0)
		buf = NULL;
	va_end(ap);
	show_str(s, key, buf ? buf : "?");
	free(buf);
}

void show_u64(struct show_ctx *s, const char *key, uint64_t v)
{
	entry(s, key, false);
	fprintf(s->out, "%" PRIu64, v);
	end_scalar(s);
}

void show_i64(struct show_ctx *s, const char *key, int64_t v)
{
	entry(s, key, false);
	fprintf(s->out, "%" PRId64, v);
	end_scalar(s);
}

void show_hex(struct show_ctx *s, const char *key, uint64_t v)
{
	entry(s, key, false);
	fprintf(s->out, s->json ? "\"0x%" PRIx64 "\"" : "0x%" PRIx64, v);
	end_scalar(s);
}

void show_bool(struct show_ctx *s, const char *key, bool v)
{
	entry(s, key, false);
	fputs(v ? "true" : "false", s->out);
	end_scalar(s);
}
