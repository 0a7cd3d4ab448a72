/*
 * io.h: whole-buffer read and write on file descriptors, retrying short
 * transfers and EINTR (unless ckpt_interrupt() was called), and small
 * helpers to read text files such as those in /proc.
 */
#ifndef UTIL_IO_H
#define UTIL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Both return 0 on success, -errno on failure; io_read_full returns the
 * number of bytes read when end of file comes first. */
ssize_t io_read_full(int fd, void *buf, size_t len);
int io_write_full(int fd, const void *buf, size_t len);

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
int io_slurp(const char *path, char **ret_buf, size_t *ret_len);
int io_slurp_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len);

/* readlink into a NUL-terminated buffer of size len. */
int io_readlink(const char *path, char *buf, size_t len);

/* Set by ckpt_interrupt(). */
bool is_interrupted(void);

#endif
