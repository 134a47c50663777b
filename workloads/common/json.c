/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rvb_json_init_bounded(rvb_json *j, char *storage, size_t max)
{
    memset(j, 0, sizeof *j);
    j->p = storage;
    j->cap = max + 1;
    j->max = max;
    j->p[0] = 0;
}

void rvb_json_init_growing(rvb_json *j, void (*out_of_memory)(void))
{
    memset(j, 0, sizeof *j);
    j->out_of_memory = out_of_memory;
}

void rvb_json_reset(rvb_json *j)
{
    j->n = 0;
    if (j->p) j->p[0] = 0;
    j->overflow = 0;
    j->depth = 0;
    j->after_key = 0;
}

void rvb_json_raw(rvb_json *j, const char *s, size_t len)
{
    if (j->max > 0) {
        if (j->overflow || j->n + len > j->max) {
            j->overflow = 1;
            return;
        }
    } else if (j->n + len + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 16384;
        while (j->n + len + 1 > cap) cap *= 2;
        char *p = realloc(j->p, cap);
        if (!p) j->out_of_memory();
        j->p = p;
        j->cap = cap;
    }
    memcpy(j->p + j->n, s, len);
    j->n += len;
    j->p[j->n] = 0;
}

void rvb_json_lit(rvb_json *j, const char *s) { rvb_json_raw(j, s, strlen(s)); }

static void vfmt(rvb_json *j, const char *fmt, va_list ap)
{
    char tmp[384]; /* %.6f of the largest double needs 316 */
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        j->overflow = 1;
        return;
    }
    rvb_json_raw(j, tmp, (size_t)n);
}

void rvb_json_fmt(rvb_json *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfmt(j, fmt, ap);
    va_end(ap);
}

size_t rvb_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return len;
}

void rvb_json_string(rvb_json *j, const char *s, size_t n, size_t limit)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0, i = 0;
    rvb_json_raw(j, "\"", 1);
    while (i < n) {
        char esc[8];
        const char *out = esc;
        size_t outn, step = 1;
        unsigned char c = p[i];
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; outn = 2; }
        else if (c == '\n') { memcpy(esc, "\\n", 2); outn = 2; }
        else if (c == '\t') { memcpy(esc, "\\t", 2); outn = 2; }
        else if (c == '\r') { memcpy(esc, "\\r", 2); outn = 2; }
        else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            outn = 6;
        } else if (c < 0x80) { out = (const char *)p + i; outn = 1; }
        else {
            size_t l = rvb_utf8_len(p + i, n - i);
            if (l == 0) { out = "\\ufffd"; outn = 6; }
            else { out = (const char *)p + i; outn = l; step = l; }
        }
        if (used + outn > limit) {
            rvb_json_raw(j, "...", 3);
            break;
        }
        rvb_json_raw(j, out, outn);
        used += outn;
        i += step;
    }
    rvb_json_raw(j, "\"", 1);
}

/* The comma before a value or key, unless it follows a key or opens its level. */
static void separate(rvb_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->comma[j->depth]) rvb_json_raw(j, ",", 1);
        j->comma[j->depth] = 1;
    }
}

void rvb_json_begin(rvb_json *j, char open)
{
    separate(j);
    rvb_json_raw(j, &open, 1);
    if (j->depth < 63) j->depth++;
    j->comma[j->depth] = 0;
}

void rvb_json_end(rvb_json *j, char close)
{
    if (j->depth > 0) j->depth--;
    rvb_json_raw(j, &close, 1);
}

void rvb_json_key(rvb_json *j, const char *key, size_t limit)
{
    separate(j);
    rvb_json_string(j, key, strlen(key), limit);
    rvb_json_raw(j, ":", 1);
    j->after_key = 1;
}

void rvb_json_value(rvb_json *j, const char *json) { rvb_json_value_n(j, json, strlen(json)); }

void rvb_json_value_n(rvb_json *j, const char *json, size_t len)
{
    separate(j);
    rvb_json_raw(j, json, len);
}

void rvb_json_value_string(rvb_json *j, const char *s, size_t n, size_t limit)
{
    separate(j);
    rvb_json_string(j, s, n, limit);
}

void rvb_json_value_fmt(rvb_json *j, const char *fmt, ...)
{
    va_list ap;
    separate(j);
    va_start(ap, fmt);
    vfmt(j, fmt, ap);
    va_end(ap);
}
