/*
 * fault.c: reads CKPT_FAULT and answers whether a failure point is armed.
 */
#include <stdlib.h>
#include <string.h>
#include "util/fault.h"
#include "util/log.h"

bool fault_hit(const char *point)
{
	const char *list = getenv("CKPT_FAULT");
	size_t n = strlen(point);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, point, n)) {
			log_err("fault injected at '%s'", point);
			return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}
