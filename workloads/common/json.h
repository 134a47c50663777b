/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The JSON writer that rvbench-runner and rvbench-probe share: a buffer that is either bounded
 * (a fixed array; a write that does not fit sets `overflow` and is dropped) or growing (heap
 * memory that doubles); objects and arrays whose commas follow the nesting; and JSON strings with
 * strict UTF-8 checking (invalid sequences become U+FFFD, control characters are escaped). */
#ifndef RVBENCH_COMMON_JSON_H
#define RVBENCH_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;      /* the text, always NUL-terminated once anything is written */
    size_t n;     /* its length */
    size_t cap;   /* bytes allocated (growing) or available (bounded) */
    size_t max;   /* bounded: the longest text allowed; 0: growing */
    int overflow; /* bounded: a write did not fit and was dropped, as was everything after it */
    void (*out_of_memory)(void); /* growing: called when realloc fails; must not return */
    int depth;                   /* open objects and arrays, at most 63 tracked */
    unsigned char comma[64];     /* per open level: a value was written, the next needs a comma */
    int after_key;               /* a key was written: its value takes no comma */
} rvb_json;

/* A bounded writer over `storage` (at least max + 1 bytes). */
void rvb_json_init_bounded(rvb_json *j, char *storage, size_t max);
/* A growing writer; `out_of_memory` is called (and must not return) when memory runs out. */
void rvb_json_init_growing(rvb_json *j, void (*out_of_memory)(void));

/* Empties the text and the nesting; a growing writer keeps its memory. */
void rvb_json_reset(rvb_json *j);

/* Text as it is, outside the nesting's bookkeeping. */
void rvb_json_raw(rvb_json *j, const char *s, size_t len);
void rvb_json_lit(rvb_json *j, const char *s);
/* printf-formatted text of at most 383 bytes; longer text sets `overflow`. */
void rvb_json_fmt(rvb_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0 when it is invalid: a bad lead
 * or continuation byte, an overlong form, a surrogate or a code point above U+10FFFF. */
size_t rvb_utf8_len(const unsigned char *p, size_t n);

/* A JSON string of s[0, n): at most `limit` bytes between the quotes (SIZE_MAX: no limit);
 * text cut at the limit ends with "...". */
void rvb_json_string(rvb_json *j, const char *s, size_t n, size_t limit);

/* Structure: '{' or '[' opens, '}' or ']' closes; a key is a string and ':'. */
void rvb_json_begin(rvb_json *j, char open);
void rvb_json_end(rvb_json *j, char close);
void rvb_json_key(rvb_json *j, const char *key, size_t limit);

/* Values, each preceded by the comma its position needs. */
void rvb_json_value(rvb_json *j, const char *json); /* JSON text as it is: a number, true, null, {...} */
void rvb_json_value_n(rvb_json *j, const char *json, size_t len);
void rvb_json_value_string(rvb_json *j, const char *s, size_t n, size_t limit);
void rvb_json_value_fmt(rvb_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
