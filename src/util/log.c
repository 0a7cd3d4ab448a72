/*
 * log.c: formats library messages and hands them to the installed sink.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "util/log.h"

static void (*log_fn)(enum ckpt_log_level, const char *, void *);
static void *log_data;
static enum ckpt_log_level log_max = CKPT_LOG_ERROR;
static int capture_fd = -1;

void ckpt_set_log(void (*fn)(enum ckpt_log_level level, const char *msg, void *data), void *data,
		  enum ckpt_log_level max_level)
{
	log_fn = fn;
	log_data = data;
	log_max = max_level;
}

bool log_enabled(enum ckpt_log_level level)
{
	return log_fn && level <= log_max;
}

void log_capture_fd(int fd)
{
	capture_fd = fd;
}

void log_replay_line(const char *line)
{
	int level = line[0] - '0';

	if (level < CKPT_LOG_ERROR || level > CKPT_LOG_DEBUG || line[1] != ' ')
		return;
	if (log_enabled(level))
		log_fn(level, line + 2, log_data);
}

void log_msg(enum ckpt_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (capture_fd >= 0) {
		char line[sizeof(buf) + 4];
		int n = snprintf(line, sizeof(line), "%d %s\n", level, buf);

		ssize_t ignored = write(capture_fd, line,
					n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);

		(void)ignored; /* ckpt is gone: nobody is left to tell */
		return;
	}
	log_fn(level, buf, log_data);
}
