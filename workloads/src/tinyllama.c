// SPDX-License-Identifier: GPL-3.0-or-later
// rvbench-tinyllama: a dependency-free greedy decoder for the small
// llama-style transformer that scripts/gen_models.py generates (weights
// random, seeded, untrained). It reads tinyllama.bin (format in
// gen_models.py), decodes token by token with a KV cache, and prints the
// generated sequence's FNV-1a checksum and tokens/s in the runner's report
// format. The ONNX driver computes the same model and must print the same
// checksum.
//
//   rvbench-tinyllama --weights FILE [--steps N] [--runs R] [--warmup-runs W]
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int dim, hidden, layers, heads, vocab, max_seq;
    float *tok_emb, *pos_emb, *final_norm, *classifier;
    struct layer {
        float *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w1, *w3, *w2;
    } *l;
    float *data;
} model;

static void die(const char *msg) {
    fprintf(stderr, "rvbench-tinyllama: %s\n", msg);
    exit(1);
}

static void load(model *m, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the weights file; run make -C workloads");
    char magic[8];
    int32_t hdr[6];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "RVBTLM1", 8) != 0) die("not a tinyllama weights file");
    if (fread(hdr, sizeof hdr[0], 6, f) != 6) die("truncated header");
    m->dim = hdr[0], m->hidden = hdr[1], m->layers = hdr[2], m->heads = hdr[3], m->vocab = hdr[4], m->max_seq = hdr[5];
    if (m->dim <= 0 || m->dim > 4096 || m->hidden <= 0 || m->hidden > 16384 || m->layers <= 0 || m->layers > 64 ||
        m->heads <= 0 || m->dim % m->heads || m->vocab <= 0 || m->vocab > 1 << 20 || m->max_seq <= 0 || m->max_seq > 1 << 16)
        die("implausible model header");
    size_t d = (size_t)m->dim, h = (size_t)m->hidden;
    size_t per_layer = 2 * d + 4 * d * d + 3 * d * h;
    size_t total = (size_t)m->vocab * d + (size_t)m->max_seq * d + (size_t)m->layers * per_layer + d + d * (size_t)m->vocab;
    m->data = malloc(total * sizeof(float));
    m->l = calloc((size_t)m->layers, sizeof *m->l);
    if (!m->data || !m->l) die("out of memory");
    if (fread(m->data, sizeof(float), total, f) != total) die("truncated weights");
    if (fgetc(f) != EOF) die("trailing bytes after the weights");
    fclose(f);
    float *p = m->data;
    m->tok_emb = p, p += (size_t)m->vocab * d;
    m->pos_emb = p, p += (size_t)m->max_seq * d;
    for (int i = 0; i < m->layers; i++) {
        struct layer *l = &m->l[i];
        l->attn_norm = p, p += d;
        l->wq = p, p += d * d;
        l->wk = p, p += d * d;
        l->wv = p, p += d * d;
        l->wo = p, p += d * d;
        l->ffn_norm = p, p += d;
        l->w1 = p, p += d * h;
        l->w3 = p, p += d * h;
        l->w2 = p, p += h * d;
    }
    m->final_norm = p, p += d;
    m->classifier = p;
}

static void rmsnorm(float *out, const float *x, const float *g, int n) {
    float ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + 1e-5f);
    for (int i = 0; i < n; i++) out[i] = x[i] * inv * g[i];
}

/// out[j] = sum_i x[i] * w[i][j] for w of shape [n][m].
static void matvec(float *out, const float *x, const float *w, int n, int m) {
    for (int j = 0; j < m; j++) out[j] = 0;
    for (int i = 0; i < n; i++) {
        float xi = x[i];
        const float *row = w + (size_t)i * (size_t)m;
        for (int j = 0; j < m; j++) out[j] += xi * row[j];
    }
}

typedef struct {
    float *x, *h, *q, *att, *o, *tmp, *g, *u, *logits, *kc, *vc;
} state;

static void state_init(state *s, const model *m) {
    size_t d = (size_t)m->dim, L = (size_t)m->layers, T = (size_t)m->max_seq;
    s->x = calloc(d, sizeof(float));
    s->h = calloc(d, sizeof(float));
    s->q = calloc(d, sizeof(float));
    s->o = calloc(d, sizeof(float));
    s->tmp = calloc(d, sizeof(float));
    s->att = calloc(T, sizeof(float));
    s->g = calloc((size_t)m->hidden, sizeof(float));
    s->u = calloc((size_t)m->hidden, sizeof(float));
    s->logits = calloc((size_t)m->vocab, sizeof(float));
    s->kc = calloc(L * T * d, sizeof(float));
    s->vc = calloc(L * T * d, sizeof(float));
    if (!s->x || !s->h || !s->q || !s->o || !s->tmp || !s->att || !s->g || !s->u || !s->logits || !s->kc || !s->vc)
        die("out of memory");
}

/// Runs one position and returns the argmax token.
static int step(const model *m, state *s, int token, int pos) {
    int d = m->dim, nh = m->heads, hd = d / nh, T = m->max_seq;
    for (int i = 0; i < d; i++) s->x[i] = m->tok_emb[(size_t)token * d + i] + m->pos_emb[(size_t)pos * d + i];
    float scale = 1.0f / sqrtf((float)hd);
    for (int li = 0; li < m->layers; li++) {
        const struct layer *l = &m->l[li];
        float *kc = s->kc + ((size_t)li * T) * d, *vc = s->vc + ((size_t)li * T) * d;
        rmsnorm(s->h, s->x, l->attn_norm, d);
        matvec(s->q, s->h, l->wq, d, d);
        matvec(kc + (size_t)pos * d, s->h, l->wk, d, d);
        matvec(vc + (size_t)pos * d, s->h, l->wv, d, d);
        for (int hh = 0; hh < nh; hh++) {
            const float *q = s->q + hh * hd;
            float maxv = -INFINITY;
            for (int t = 0; t <= pos; t++) {
                const float *k = kc + (size_t)t * d + hh * hd;
                float dot = 0;
                for (int i = 0; i < hd; i++) dot += q[i] * k[i];
                s->att[t] = dot * scale;
                if (s->att[t] > maxv) maxv = s->att[t];
            }
            float sum = 0;
            for (int t = 0; t <= pos; t++) {
                s->att[t] = expf(s->att[t] - maxv);
                sum += s->att[t];
            }
            float *o = s->o + hh * hd;
            for (int i = 0; i < hd; i++) o[i] = 0;
            for (int t = 0; t <= pos; t++) {
                float a = s->att[t] / sum;
                const float *v = vc + (size_t)t * d + hh * hd;
                for (int i = 0; i < hd; i++) o[i] += a * v[i];
            }
        }
        matvec(s->tmp, s->o, l->wo, d, d);
        for (int i = 0; i < d; i++) s->x[i] += s->tmp[i];
        rmsnorm(s->h, s->x, l->ffn_norm, d);
        matvec(s->g, s->h, l->w1, d, m->hidden);
        matvec(s->u, s->h, l->w3, d, m->hidden);
        for (int i = 0; i < m->hidden; i++) {
            float gi = s->g[i];
            s->g[i] = gi / (1.0f + expf(-gi)) * s->u[i];
        }
        matvec(s->tmp, s->g, l->w2, m->hidden, d);
        for (int i = 0; i < d; i++) s->x[i] += s->tmp[i];
    }
    rmsnorm(s->h, s->x, m->final_norm, d);
    matvec(s->logits, s->h, m->classifier, d, m->vocab);
    int best = 0;
    for (int i = 1; i < m->vocab; i++)
        if (s->logits[i] > s->logits[best]) best = i;
    return best;
}

static uint64_t fnv1a_tokens(const int *tokens, int n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 4; b++) {
            h ^= (uint8_t)((uint32_t)tokens[i] >> (8 * b));
            h *= 0x100000001b3ULL;
        }
    return h;
}

int main(int argc, char **argv) {
    const char *weights = NULL;
    int steps = 128, runs = 1, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--weights") == 0) weights = argv[i + 1];
        else if (strcmp(argv[i], "--steps") == 0) steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--runs") == 0) runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup-runs") == 0) warmup = atoi(argv[i + 1]);
        else die("usage: rvbench-tinyllama --weights FILE [--steps N] [--runs R] [--warmup-runs W]");
    }
    if (!weights || runs < 1 || runs > 100000 || warmup < 0 || warmup > 1000) die("usage: rvbench-tinyllama --weights FILE [--steps N] [--runs R] [--warmup-runs W]");
    model m;
    int64_t l0 = rvb_now_ns();
    load(&m, weights);
    int64_t l1 = rvb_now_ns();
    if (steps < 1 || steps > m.max_seq) die("--steps must be 1..max_seq");
    state s;
    state_init(&s, &m);
    int *tokens = calloc((size_t)steps, sizeof(int));
    if (!tokens) die("out of memory");
    uint64_t first = 0;
    int mismatches = 0;
    int64_t t0 = 0;
    for (int r = 0; r < warmup + runs; r++) {
        if (r == warmup) t0 = rvb_now_ns();
        int tok = 1; /* BOS */
        for (int pos = 0; pos < steps; pos++) tokens[pos] = tok = step(&m, &s, tok, pos);
        uint64_t h = fnv1a_tokens(tokens, steps);
        if (r == 0) first = h;
        else if (h != first) mismatches++;
    }
    int64_t t1 = rvb_now_ns();
    double secs = (double)(t1 - t0) / 1e9, generated = (double)steps * runs;
    rvb_metric("tokens", generated);
    rvb_metric("tokens_per_s", generated / secs);
    rvb_metric("ms_per_token", secs * 1e3 / generated);
    rvb_metric("load_ms", (double)(l1 - l0) / 1e6);
    char token[40];
    snprintf(token, sizeof token, "fnv64=%016llx", (unsigned long long)first);
    rvb_checksum(token);
    if (mismatches) printf("verify fail %d runs generated a different sequence\n", mismatches);
    else printf("verify ok\n");
    return 0;
}
