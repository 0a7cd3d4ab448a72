/*
 * log.h: the library's internal logging, forwarded to the sink the caller
 * installed with ckpt_set_log(). Messages are lowercase with no trailing
 * period and name the subject: "pid 42 fd 7: inotify: not supported".
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>
#include "ckpt.h"

void log_msg(enum ckpt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_enabled(enum ckpt_log_level level);
/* From now on, write messages to fd as lines "<level> <message>" instead of
 * calling the sink (a new process reporting to ckpt). */
void log_capture_fd(int fd);
/* Passes a line written by log_capture_fd's writer on to the sink. */
void log_replay_line(const char *line);

#define log_err(...) log_msg(CKPT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(CKPT_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(CKPT_LOG_INFO, __VA_ARGS__)
#define log_dbg(...) log_msg(CKPT_LOG_DEBUG, __VA_ARGS__)

#endif
