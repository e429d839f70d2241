#pragma once
/* Shared between the parsers; not part of the public interface. */
#include <stddef.h>
#include <stdint.h>
#include "CSandboxNet.h"

/* Strict unsigned decimal of exactly len bytes: digits only, no sign, no
 * leading zero (except "0"), at most max. 0 on success. */
int sbxnet_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Splits the next line off [*pos, len): sets line/linelen (without '\n').
 * Returns 0 at the end, 1 for a line. */
int sbxnet_next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *linelen);

/* printf into err (line, then message). */
void sbxnet_set_error(struct sbxnet_error *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
