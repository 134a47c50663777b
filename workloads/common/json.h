/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The JSON text writer that rvbench-runner and rvbench-probe share: a buffer that is either
 * bounded (a fixed array; a write that does not fit sets `overflow` and is dropped) or growing
 * (heap memory that doubles), raw and printf-formatted text, and JSON strings with strict UTF-8
 * checking (invalid sequences become U+FFFD, control characters are escaped). */
#ifndef RVBENCH_COMMON_JSON_H
#define RVBENCH_COMMON_JSON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;      /* the text, always NUL-terminated once anything is written */
    size_t n;     /* its length */
    size_t cap;   /* bytes allocated (growing) or available (bounded) */
    size_t max;   /* bounded: the longest text allowed; 0: growing */
    int overflow; /* bounded: a write did not fit and was dropped, as was everything after it */
    void (*out_of_memory)(void); /* growing: called when realloc fails; must not return */
} rvb_json;

/* A bounded writer over `storage` (at least max + 1 bytes). */
void rvb_json_init_bounded(rvb_json *j, char *storage, size_t max);
/* A growing writer; `out_of_memory` is called (and must not return) when memory runs out. */
void rvb_json_init_growing(rvb_json *j, void (*out_of_memory)(void));

void rvb_json_raw(rvb_json *j, const char *s, size_t len);
void rvb_json_lit(rvb_json *j, const char *s);
/* printf-formatted text of at most 127 bytes; longer text sets `overflow`. */
void rvb_json_fmt(rvb_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0 when it is invalid: a bad lead
 * or continuation byte, an overlong form, a surrogate or a code point above U+10FFFF. */
size_t rvb_utf8_len(const unsigned char *p, size_t n);

/* A JSON string of s[0, n): at most `limit` bytes between the quotes (SIZE_MAX: no limit);
 * text cut at the limit ends with "...". */
void rvb_json_string(rvb_json *j, const char *s, size_t n, size_t limit);

#endif
