// SPDX-License-Identifier: GPL-3.0-or-later
// rvbench-onnx: runs an ONNX model with ONNX Runtime's C API and prints the
// runner's report lines. libonnxruntime is loaded with dlopen at run time, so
// the Debian 12 cross compiler can build this against Debian 13's library
// (only the header comes from libonnxruntime-dev). One intra-op and one
// inter-op thread, so runs are comparable across variants.
//
//   rvbench-onnx classify --model M --input F --shape 1,3,96,96 [--runs R] [--warmup-runs W]
//                --expect-argmax K --expect-sum S --expect-l2 L [--rtol X]
//   rvbench-onnx generate --model M --layers 5 --heads 8 --head-dim 8 [--steps N] [--runs R] [--warmup-runs W]
#include "report.h"

#include <dlfcn.h>
#include <math.h>
#include <onnxruntime_c_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const OrtApi *ort;

static void die(const char *msg) {
    fprintf(stderr, "rvbench-onnx: %s\n", msg);
    exit(1);
}

/// The one error funnel for ONNX Runtime calls.
static void check(OrtStatus *status, const char *what) {
    if (!status) return;
    fprintf(stderr, "rvbench-onnx: %s: %s\n", what, ort->GetErrorMessage(status));
    ort->ReleaseStatus(status);
    exit(1);
}

static const char *arg(int argc, char **argv, const char *name, const char *def) {
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

static long arg_long(int argc, char **argv, const char *name, long def, long min, long max) {
    const char *v = arg(argc, argv, name, NULL);
    if (!v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < min || n > max) {
        fprintf(stderr, "rvbench-onnx: %s must be %ld..%ld\n", name, min, max);
        exit(64);
    }
    return n;
}

static double arg_double(int argc, char **argv, const char *name) {
    const char *v = arg(argc, argv, name, NULL);
    if (!v) {
        fprintf(stderr, "rvbench-onnx: %s is required\n", name);
        exit(64);
    }
    char *end;
    double d = strtod(v, &end);
    if (*end || !isfinite(d)) die("bad number");
    return d;
}

static OrtEnv *env;
static OrtMemoryInfo *cpu;

static OrtSession *open_session(const char *model, double *load_ms) {
    const char *lib = getenv("RVBENCH_ONNXRUNTIME");
    void *h = dlopen(lib ? lib : "libonnxruntime.so.1.21", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "rvbench-onnx: %s; install libonnxruntime1.21 (workloads/packages.txt)\n", dlerror());
        exit(1);
    }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(h, "OrtGetApiBase");
    if (!get_base) die("libonnxruntime has no OrtGetApiBase");
    const OrtApiBase *base = get_base();
    ort = base->GetApi(ORT_API_VERSION);
    if (!ort) die("this libonnxruntime does not provide the API version this driver was built for");
    printf("info onnxruntime %s\n", base->GetVersionString());
    check(ort->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "rvbench", &env), "CreateEnv");
    check(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &cpu), "CreateCpuMemoryInfo");
    OrtSessionOptions *so;
    check(ort->CreateSessionOptions(&so), "CreateSessionOptions");
    check(ort->SetIntraOpNumThreads(so, 1), "SetIntraOpNumThreads");
    check(ort->SetInterOpNumThreads(so, 1), "SetInterOpNumThreads");
    check(ort->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL), "SetSessionGraphOptimizationLevel");
    OrtSession *s;
    int64_t t0 = rvb_now_ns();
    check(ort->CreateSession(env, model, so, &s), "CreateSession");
    *load_ms = (double)(rvb_now_ns() - t0) / 1e6;
    ort->ReleaseSessionOptions(so);
    return s;
}

static bool close_to(double got, double want, double rtol) {
    return fabs(got - want) <= rtol * fabs(want) + 1e-4;
}

static void classify(int argc, char **argv) {
    const char *model = arg(argc, argv, "--model", NULL), *input = arg(argc, argv, "--input", NULL);
    const char *shape_s = arg(argc, argv, "--shape", NULL);
    if (!model || !input || !shape_s) die("classify needs --model, --input and --shape");
    long runs = arg_long(argc, argv, "--runs", 1, 1, 100000), warmup = arg_long(argc, argv, "--warmup-runs", 1, 0, 1000);
    long want_argmax = arg_long(argc, argv, "--expect-argmax", -1, 0, 1 << 30);
    double want_sum = arg_double(argc, argv, "--expect-sum"), want_l2 = arg_double(argc, argv, "--expect-l2");
    const char *rtol_s = arg(argc, argv, "--rtol", "1e-3");
    double rtol = strtod(rtol_s, NULL);
    int64_t shape[8];
    size_t rank = 0, count = 1;
    for (const char *p = shape_s; *p && rank < 8;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > 100000) die("bad --shape");
        shape[rank++] = v;
        count *= (size_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    float *data = malloc(count * sizeof(float));
    FILE *f = fopen(input, "rb");
    if (!data || !f || fread(data, sizeof(float), count, f) != count) die("cannot read --input (size must match --shape)");
    fclose(f);

    double load_ms;
    OrtSession *s = open_session(model, &load_ms);
    OrtValue *in = NULL;
    check(ort->CreateTensorWithDataAsOrtValue(cpu, data, count * sizeof(float), shape, rank,
                                              ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in), "CreateTensor");
    const char *in_names[] = {"image"}, *out_names[] = {"logits"};
    double sum = 0, l2 = 0;
    long argmax = -1;
    bool stable = true;
    int64_t t0 = 0;
    for (long r = 0; r < warmup + runs; r++) {
        if (r == warmup) t0 = rvb_now_ns();
        OrtValue *out = NULL;
        check(ort->Run(s, NULL, in_names, (const OrtValue *const *)&in, 1, out_names, 1, &out), "Run");
        float *logits;
        check(ort->GetTensorMutableData(out, (void **)&logits), "GetTensorMutableData");
        OrtTensorTypeAndShapeInfo *info;
        size_t n;
        check(ort->GetTensorTypeAndShape(out, &info), "GetTensorTypeAndShape");
        check(ort->GetTensorShapeElementCount(info, &n), "GetTensorShapeElementCount");
        ort->ReleaseTensorTypeAndShapeInfo(info);
        double rs = 0, rl = 0;
        long ra = 0;
        for (size_t i = 0; i < n; i++) {
            rs += logits[i];
            rl += (double)logits[i] * logits[i];
            if (logits[i] > logits[ra]) ra = (long)i;
        }
        if (r > 0 && (ra != argmax || rs != sum)) stable = false;
        sum = rs, l2 = sqrt(rl), argmax = ra;
        ort->ReleaseValue(out);
    }
    int64_t t1 = rvb_now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    rvb_metric("inferences", (double)runs);
    rvb_metric("ms_per_inference", secs * 1e3 / (double)runs);
    rvb_metric("inferences_per_s", (double)runs / secs);
    rvb_metric("load_ms", load_ms);
    rvb_metric("logits_sum", sum);
    rvb_metric("logits_l2", l2);
    char token[40];
    snprintf(token, sizeof token, "argmax=%ld", argmax);
    rvb_checksum(token);
    if (!stable) printf("verify fail runs gave different outputs\n");
    else if (argmax != want_argmax) printf("verify fail argmax %ld, expected %ld\n", argmax, want_argmax);
    else if (!close_to(sum, want_sum, rtol) || !close_to(l2, want_l2, rtol))
        printf("verify fail logits sum %.6g l2 %.6g, expected %.6g and %.6g within rtol %g\n", sum, l2, want_sum, want_l2, rtol);
    else printf("verify ok\n");
    ort->ReleaseValue(in);
    ort->ReleaseSession(s);
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

#define MAX_LAYERS 32

static void generate(int argc, char **argv) {
    const char *model = arg(argc, argv, "--model", NULL);
    if (!model) die("generate needs --model");
    int layers = (int)arg_long(argc, argv, "--layers", 5, 1, MAX_LAYERS);
    int64_t heads = arg_long(argc, argv, "--heads", 8, 1, 256), head_dim = arg_long(argc, argv, "--head-dim", 8, 1, 1024);
    int steps = (int)arg_long(argc, argv, "--steps", 64, 1, 4096);
    long runs = arg_long(argc, argv, "--runs", 1, 1, 100000), warmup = arg_long(argc, argv, "--warmup-runs", 1, 0, 1000);
    double load_ms;
    OrtSession *s = open_session(model, &load_ms);
    OrtAllocator *alloc;
    check(ort->GetAllocatorWithDefaultOptions(&alloc), "GetAllocatorWithDefaultOptions");

    int n_io = 2 + 2 * layers;
    char names[2 * (2 + 2 * MAX_LAYERS)][24];
    const char *in_names[2 + 2 * MAX_LAYERS], *out_names[1 + 2 * MAX_LAYERS];
    snprintf(names[0], 24, "token");
    snprintf(names[1], 24, "position");
    in_names[0] = names[0], in_names[1] = names[1];
    snprintf(names[n_io], 24, "logits");
    out_names[0] = names[n_io];
    for (int i = 0; i < layers; i++)
        for (int kv = 0; kv < 2; kv++) {
            char *in = names[2 + 2 * i + kv], *out = names[n_io + 1 + 2 * i + kv];
            snprintf(in, 24, "past_%c%d", kv ? 'v' : 'k', i);
            snprintf(out, 24, "present_%c%d", kv ? 'v' : 'k', i);
            in_names[2 + 2 * i + kv] = in;
            out_names[1 + 2 * i + kv] = out;
        }

    int *tokens = calloc((size_t)steps, sizeof(int));
    if (!tokens) die("out of memory");
    uint64_t first = 0;
    int mismatches = 0;
    int64_t t0 = 0;
    for (long r = 0; r < warmup + runs; r++) {
        if (r == warmup) t0 = rvb_now_ns();
        OrtValue *inputs[2 + 2 * MAX_LAYERS] = {0}, *outputs[1 + 2 * MAX_LAYERS];
        int64_t empty_shape[4] = {1, heads, 0, head_dim};
        for (int i = 2; i < n_io; i++)
            check(ort->CreateTensorAsOrtValue(alloc, empty_shape, 4, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &inputs[i]),
                  "CreateTensorAsOrtValue");
        int64_t token = 1, position = 0; /* BOS */
        int64_t tok_shape[2] = {1, 1}, pos_shape[1] = {1};
        for (int step = 0; step < steps; step++) {
            position = step;
            check(ort->CreateTensorWithDataAsOrtValue(cpu, &token, sizeof token, tok_shape, 2,
                                                      ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &inputs[0]), "CreateTensor");
            check(ort->CreateTensorWithDataAsOrtValue(cpu, &position, sizeof position, pos_shape, 1,
                                                      ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &inputs[1]), "CreateTensor");
            for (int i = 0; i < n_io - 1; i++) outputs[i] = NULL;
            check(ort->Run(s, NULL, in_names, (const OrtValue *const *)inputs, (size_t)n_io, out_names,
                           (size_t)(n_io - 1), outputs), "Run");
            float *logits;
            check(ort->GetTensorMutableData(outputs[0], (void **)&logits), "GetTensorMutableData");
            OrtTensorTypeAndShapeInfo *info;
            size_t n;
            check(ort->GetTensorTypeAndShape(outputs[0], &info), "GetTensorTypeAndShape");
            check(ort->GetTensorShapeElementCount(info, &n), "GetTensorShapeElementCount");
            ort->ReleaseTensorTypeAndShapeInfo(info);
            size_t best = 0;
            for (size_t i = 1; i < n; i++)
                if (logits[i] > logits[best]) best = i;
            tokens[step] = (int)best;
            token = (int64_t)best;
            ort->ReleaseValue(outputs[0]);
            for (int i = 0; i < n_io; i++) ort->ReleaseValue(inputs[i]);
            for (int i = 2; i < n_io; i++) inputs[i] = outputs[i - 1]; /* present becomes past */
        }
        for (int i = 2; i < n_io; i++) ort->ReleaseValue(inputs[i]);
        uint64_t h = fnv1a_tokens(tokens, steps);
        if (r == 0) first = h;
        else if (h != first) mismatches++;
    }
    int64_t t1 = rvb_now_ns();
    double secs = (double)(t1 - t0) / 1e9, generated = (double)steps * (double)runs;
    rvb_metric("tokens", generated);
    rvb_metric("tokens_per_s", generated / secs);
    rvb_metric("ms_per_token", secs * 1e3 / generated);
    rvb_metric("load_ms", load_ms);
    char tok[40];
    snprintf(tok, sizeof tok, "fnv64=%016llx", (unsigned long long)first);
    rvb_checksum(tok);
    if (mismatches) printf("verify fail %d runs generated a different sequence\n", mismatches);
    else printf("verify ok\n");
    ort->ReleaseSession(s);
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: rvbench-onnx classify|generate [options]");
    if (strcmp(argv[1], "classify") == 0) classify(argc, argv);
    else if (strcmp(argv[1], "generate") == 0) generate(argc, argv);
    else die("usage: rvbench-onnx classify|generate [options]");
    return 0;
}
