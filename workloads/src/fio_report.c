// SPDX-License-Identifier: GPL-3.0-or-later
// rvbench-fio: runs fio on rvbench's data disk and turns its JSON into report lines.
//
//   rvbench-fio --bytes N [--device PATH|auto] -- /usr/bin/fio FIO-OPTIONS...
//
// 1. Finds the data disk: with `auto` (the default), the one block device of at least N bytes
//    whose first 4 KiB hold the data pattern (datadisk.h); whatever its kind (virtio-blk, NVMe,
//    vhost-vdpa), the variant serves the same bytes. A path names a device or image file.
// 2. Runs fio with FIO-OPTIONS plus --filename=DEVICE --output-format=json --output=FILE
//    (fio's own messages go to stderr), and parses FILE strictly: one JSON value, at most
//    1 MiB, 32 levels, every number finite; the fields read must appear exactly once.
// 3. Reads the first N bytes of the device with direct I/O, compares them with the pattern and
//    hashes them: `checksum` is their SHA-256, which the manifest expects, so every variant is
//    shown to have served identical bytes.
// Prints `metric`, `info`, `checksum` and `verify` lines (report.h). Exits 0 when fio ran,
// also when verification failed (the runner then reports checksum_ok false), and non-zero when
// fio or the device could not be used.
#define _GNU_SOURCE
#include "datadisk.h"
#include "report.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JSON (1 << 20)
#define MAX_DEPTH 32
#define MAX_KEY 128
#define LABEL_BYTES 4096
#define CHUNK (1 << 20)

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rvbench-fio: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static void fail(const char *why) {
    printf("verify fail %s\n", why);
    fflush(stdout);
    exit(0);
}

/* --------------------------------------------------------------- device -- */

static int64_t device_bytes(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    if (S_ISREG(st.st_mode)) return st.st_size;
    if (!S_ISBLK(st.st_mode)) return -1;
    uint64_t n = 0;
    if (ioctl(fd, BLKGETSIZE64, &n) != 0) return -1;
    return (int64_t)n;
}

/// True when the first 4 KiB of fd are the pattern's first 4 KiB.
static bool starts_with_pattern(int fd) {
    uint64_t words[LABEL_BYTES / 8];
    if (pread(fd, words, sizeof words, 0) != (ssize_t)sizeof words) return false;
    for (uint64_t i = 0; i < LABEL_BYTES / 8; i++) {
        uint64_t w = rvb_data_word(i);
        uint8_t le[8];
        for (int b = 0; b < 8; b++) le[b] = (uint8_t)(w >> (8 * b));
        if (memcmp(&words[i], le, 8) != 0) return false;
    }
    return true;
}

/// The serial number every datapath gives the data disk (DataDisk.serial): libvirt's <serial> for a guest's
/// disk, the NVMe's serial for the lab's controller.
#define DATA_SERIAL "rvbench-data"

/// True when /sys/block/NAME reports the data disk's serial (virtio-blk: serial, NVMe: device/serial).
static bool has_data_serial(const char *name) {
    static const char *const files[] = {"serial", "device/serial"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[160], text[64] = {0};
        snprintf(path, sizeof path, "/sys/block/%s/%s", name, files[i]);
        FILE *f = fopen(path, "re");
        if (!f) continue;
        size_t got = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' ')) text[--got] = 0;
        if (strcmp(text, DATA_SERIAL) == 0) return true;
    }
    return false;
}

/// The one block device that holds the pattern, from /sys/block. When several do (a host may also see a
/// copy of the data disk, e.g. the lab's vp_vdpa device while it is bound to virtio_vdpa), the one whose
/// serial is the data disk's wins; if that does not single one out, it is an error.
static void find_device(int64_t bytes, char *out, size_t n) {
    DIR *d = opendir("/sys/block");
    if (!d) die(2, "cannot list /sys/block: %s", strerror(errno));
    int found = 0, serial = 0;
    char first[96] = {0}, by_serial[96] = {0};
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) > 64) continue;
        char path[96];
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        int64_t size = device_bytes(fd);
        bool match = size >= bytes && starts_with_pattern(fd);
        close(fd);
        if (!match) continue;
        if (found++ == 0) snprintf(first, sizeof first, "%s", path);
        if (has_data_serial(e->d_name) && serial++ == 0) snprintf(by_serial, sizeof by_serial, "%s", path);
    }
    closedir(d);
    if (found == 0)
        die(2, "no data disk: no block device of at least %lld bytes starts with pattern rvbench-data-v1; "
               "rebuild the lab (rvbench lab build), or pass --device", (long long)bytes);
    if (found == 1) { snprintf(out, n, "%s", first); return; }
    if (serial == 1) { snprintf(out, n, "%s", by_serial); return; }
    die(2, "%d block devices hold the data pattern and %d of them have serial " DATA_SERIAL
           "; pass --device to choose one", found, serial);
}

/* ----------------------------------------------------------------- JSON -- */

/// The fields read from fio's JSON, by path ('/' between keys and array indices).
enum { F_ERROR, F_IOPS, F_BW, F_IO_BYTES, F_TOTAL_IOS, F_RUNTIME, F_CLAT_MEAN, F_CLAT_P99, F_LAT_MEAN,
       F_WRITE_BYTES, N_FIELDS };
static const char *field_paths[N_FIELDS] = {
    "jobs/0/error", "jobs/0/read/iops", "jobs/0/read/bw_bytes", "jobs/0/read/io_bytes", "jobs/0/read/total_ios",
    "jobs/0/read/runtime", "jobs/0/read/clat_ns/mean", "jobs/0/read/clat_ns/percentile/99.000000",
    "jobs/0/read/lat_ns/mean", "jobs/0/write/io_bytes",
};

typedef struct {
    const char *p, *end;
    int depth;
    char path[MAX_DEPTH * (MAX_KEY + 1) + 1];
    size_t path_n;
    const char *error;
    double value[N_FIELDS];
    int seen[N_FIELDS];
    long jobs;
    char version[64];
    int version_seen;
} parser;

static void ws(parser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static bool bad(parser *j, const char *why) {
    if (!j->error) j->error = why;
    return false;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// A JSON string into out (at most cap - 1 bytes kept; escapes other than \uXXXX decoded, \uXXXX kept as '?').
static bool string(parser *j, char *out, size_t cap, bool *truncated) {
    size_t n = 0;
    *truncated = false;
    j->p++; /* the opening quote */
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') {
            out[n] = 0;
            return true;
        }
        if (c < 0x20) return bad(j, "control character in a string");
        if (c == '\\') {
            if (j->p >= j->end) break;
            char e = *j->p++;
            switch (e) {
            case '"': case '\\': case '/': break;
            case 'b': e = '\b'; break;
            case 'f': e = '\f'; break;
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'u':
                if (j->end - j->p < 4 || !is_hex(j->p[0]) || !is_hex(j->p[1]) || !is_hex(j->p[2]) || !is_hex(j->p[3]))
                    return bad(j, "bad \\u escape");
                j->p += 4;
                e = '?';
                break;
            default: return bad(j, "bad escape");
            }
            c = (unsigned char)e;
        }
        if (n + 1 < cap) out[n++] = (char)c;
        else *truncated = true;
    }
    return bad(j, "unterminated string");
}

static bool number(parser *j, double *v) {
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p >= j->end) return bad(j, "bad number");
    if (*j->p == '0') j->p++;
    else if (*j->p >= '1' && *j->p <= '9') while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    else return bad(j, "bad number");
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return bad(j, "bad number");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9') return bad(j, "bad number");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    char text[64];
    size_t n = (size_t)(j->p - s);
    if (n >= sizeof text) return bad(j, "number too long");
    memcpy(text, s, n);
    text[n] = 0;
    *v = strtod(text, NULL);
    if (!isfinite(*v)) return bad(j, "number out of range");
    return true;
}

static bool literal(parser *j, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return bad(j, "unexpected character");
    j->p += n;
    return true;
}

static void push(parser *j, const char *part, size_t *saved) {
    *saved = j->path_n;
    int w = snprintf(j->path + j->path_n, sizeof j->path - j->path_n, "%s%s", j->path_n ? "/" : "", part);
    if (w > 0) j->path_n += (size_t)w;
    if (j->path_n >= sizeof j->path) j->path_n = sizeof j->path - 1;
}

static void pop(parser *j, size_t saved) {
    j->path_n = saved;
    j->path[saved] = 0;
}

static void found_number(parser *j, double v) {
    for (int f = 0; f < N_FIELDS; f++)
        if (strcmp(j->path, field_paths[f]) == 0) {
            j->value[f] = v;
            j->seen[f]++;
        }
}

static bool value(parser *j);

static bool object(parser *j) {
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        ws(j);
        if (j->p >= j->end || *j->p != '"') return bad(j, "expected a key");
        char key[MAX_KEY];
        bool truncated;
        if (!string(j, key, sizeof key, &truncated)) return false;
        if (truncated) return bad(j, "key too long");
        ws(j);
        if (j->p >= j->end || *j->p != ':') return bad(j, "expected ':'");
        j->p++;
        size_t saved;
        push(j, key, &saved);
        if (!value(j)) return false;
        pop(j, saved);
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == '}') { j->p++; return true; }
        return bad(j, "expected ',' or '}'");
    }
}

static bool array(parser *j) {
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return true;
    }
    bool is_jobs = strcmp(j->path, "jobs") == 0;
    for (long i = 0;; i++) {
        char index[24];
        snprintf(index, sizeof index, "%ld", i);
        size_t saved;
        push(j, index, &saved);
        if (!value(j)) return false;
        pop(j, saved);
        if (is_jobs) j->jobs = i + 1;
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == ']') { j->p++; return true; }
        return bad(j, "expected ',' or ']'");
    }
}

static bool value(parser *j) {
    ws(j);
    if (j->p >= j->end) return bad(j, "unexpected end");
    if (++j->depth > MAX_DEPTH) return bad(j, "nested too deeply");
    bool ok;
    char c = *j->p;
    if (c == '{') ok = object(j);
    else if (c == '[') ok = array(j);
    else if (c == '"') {
        char text[64];
        bool truncated;
        ok = string(j, text, sizeof text, &truncated);
        if (ok && strcmp(j->path, "fio version") == 0) {
            snprintf(j->version, sizeof j->version, "%s", text);
            j->version_seen++;
        }
    } else if (c == 't') ok = literal(j, "true");
    else if (c == 'f') ok = literal(j, "false");
    else if (c == 'n') ok = literal(j, "null");
    else {
        double v;
        ok = number(j, &v);
        if (ok) found_number(j, v);
    }
    j->depth--;
    return ok;
}

/// Parses fio's JSON output; returns NULL or what is wrong with it.
static const char *parse_fio_json(parser *j, const char *text, size_t n) {
    memset(j, 0, sizeof *j);
    j->p = text;
    j->end = text + n;
    if (!value(j)) return j->error;
    ws(j);
    if (j->p != j->end) return "text after the JSON value";
    if (j->jobs != 1) return "fio reported other than one job";
    for (int f = 0; f < N_FIELDS; f++) {
        if (j->seen[f] > 1) return "a field appears twice";
        if (j->seen[f] == 0 && f != F_WRITE_BYTES && f != F_LAT_MEAN) return "a field is missing";
    }
    if (j->version_seen != 1) return "no fio version";
    return NULL;
}

/* ------------------------------------------------------------------ run -- */

static char *read_file(const char *path, size_t *n) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    char *buf = malloc(MAX_JSON + 1);
    if (!buf) die(2, "out of memory");
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, MAX_JSON + 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
        if (got > MAX_JSON) break;
    }
    close(fd);
    *n = got;
    return buf;
}

/// Runs fio with stdout on our stderr (only report lines may reach the runner); returns its status.
static int run_fio(char **argv) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die(2, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(2, 1);
        execv(argv[0], argv);
        fprintf(stderr, "rvbench-fio: execv %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) die(2, "waitpid: %s", strerror(errno));
    return status;
}

/// Reads the first `bytes` of the device with direct I/O: compares them with the pattern and hashes them.
static void verify_content(const char *device, int64_t bytes, char hex[65]) {
    int fd = open(device, O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0 && errno == EINVAL) fd = open(device, O_RDONLY | O_CLOEXEC); /* no direct I/O on this file system */
    if (fd < 0) die(2, "cannot open %s: %s", device, strerror(errno));
    void *mem;
    if (posix_memalign(&mem, 4096, CHUNK) != 0) die(2, "out of memory");
    unsigned char *buf = mem;
    rvb_sha256 sha;
    rvb_sha256_init(&sha);
    int64_t first_bad = -1;
    for (int64_t off = 0; off < bytes;) {
        size_t want = (size_t)(bytes - off < CHUNK ? bytes - off : CHUNK);
        ssize_t r = pread(fd, buf, want, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die(2, "reading %s at byte %lld: %s", device, (long long)off, r < 0 ? strerror(errno) : "end of device");
        if (r % 8 != 0) die(2, "short read of %s at byte %lld", device, (long long)off);
        rvb_sha256_update(&sha, buf, (size_t)r);
        for (ssize_t k = 0; first_bad < 0 && k < r; k += 8) {
            uint64_t w = rvb_data_word((uint64_t)(off + k) / 8), got = 0;
            for (int b = 7; b >= 0; b--) got = (got << 8) | buf[k + b];
            if (got != w) first_bad = off + k;
        }
        off += r;
    }
    close(fd);
    free(mem);
    rvb_sha256_final_hex(&sha, hex);
    if (first_bad >= 0) {
        char why[160];
        snprintf(why, sizeof why, "%s differs from pattern rvbench-data-v1 at byte %lld", device, (long long)first_bad);
        printf("checksum %s\n", hex);
        fail(why);
    }
}

/// Interrupts this kernel has taken so far: the sum of every per-CPU count in /proc/interrupts
/// (device lines and the architecture's IPI and timer lines alike). -1 when the file is unreadable
/// or not in the expected shape. Bounded: at most 1 MiB is read.
static double interrupts_so_far(void) {
    FILE *f = fopen("/proc/interrupts", "re");
    if (!f) return -1;
    char line[4096];
    int cpus = 0;
    double total = 0;
    size_t seen = 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
        if (strncmp(t, "CPU", 3) == 0) cpus++;
    if (cpus == 0) { fclose(f); return -1; }
    while (fgets(line, sizeof line, f)) {
        seen += strlen(line);
        if (seen > (1 << 20)) { fclose(f); return -1; }
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *p = colon + 1;
        for (int c = 0; c < cpus; c++) {
            while (*p == ' ' || *p == '\t') p++;
            if (*p < '0' || *p > '9') break;
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            total += (double)v;
            p = end;
        }
    }
    fclose(f);
    return total;
}

static void usage(void) {
    fprintf(stderr, "usage: rvbench-fio --bytes N [--device PATH|auto] -- /usr/bin/fio FIO-OPTIONS...\n");
    exit(64);
}

int main(int argc, char **argv) {
    int64_t bytes = 0;
    char device[256] = "auto";
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--bytes") == 0) {
            char *end;
            long long v = strtoll(argv[++i], &end, 10);
            if (*end || v < LABEL_BYTES || v % LABEL_BYTES != 0 || v > (1LL << 40)) die(64, "--bytes must be a multiple of 4096");
            bytes = v;
        } else if (strcmp(argv[i], "--device") == 0) {
            if (strlen(argv[++i]) >= sizeof device) die(64, "--device path too long");
            snprintf(device, sizeof device, "%s", argv[i]);
        } else {
            usage();
        }
    }
    if (bytes == 0 || i >= argc || argv[i][0] != '/') usage();
    int fio_argc = argc - i;
    if (fio_argc > 60) die(64, "too many fio options");
    for (int k = i + 1; k < argc; k++)
        if (strncmp(argv[k], "--filename", 10) == 0 || strncmp(argv[k], "--output", 8) == 0)
            die(64, "%s is set by rvbench-fio", argv[k]);

    if (strcmp(device, "auto") == 0) find_device(bytes, device, sizeof device);
    else {
        int fd = open(device, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die(2, "cannot open %s: %s", device, strerror(errno));
        bool ok = device_bytes(fd) >= bytes && starts_with_pattern(fd);
        close(fd);
        if (!ok) die(2, "%s does not hold %lld bytes of pattern rvbench-data-v1", device, (long long)bytes);
    }

    char dir[] = "/tmp/rvbench-fio-XXXXXX";
    if (!mkdtemp(dir)) die(2, "mkdtemp: %s", strerror(errno));
    char json_path[64], filename[300], output[80];
    snprintf(json_path, sizeof json_path, "%s/fio.json", dir);
    snprintf(filename, sizeof filename, "--filename=%s", device);
    snprintf(output, sizeof output, "--output=%s", json_path);
    char *fio_argv[66];
    int n = 0;
    for (int k = i; k < argc; k++) fio_argv[n++] = argv[k];
    fio_argv[n++] = filename;
    fio_argv[n++] = "--output-format=json";
    fio_argv[n++] = output;
    fio_argv[n] = NULL;
    double interrupts_before = interrupts_so_far();
    int status = run_fio(fio_argv);
    size_t json_n = 0;
    char *json = read_file(json_path, &json_n);
    unlink(json_path);
    rmdir(dir);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die(3, "fio %s %d", WIFEXITED(status) ? "exited with status" : "was killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    if (!json) die(3, "fio wrote no JSON output");
    if (json_n > MAX_JSON) die(3, "fio's JSON output exceeds %d bytes", MAX_JSON);
    static parser j;
    const char *problem = parse_fio_json(&j, json, json_n);
    free(json);
    if (problem) die(3, "fio's JSON output is not what rvbench reads: %s", problem);

    rvb_metric("iops", j.value[F_IOPS]);
    rvb_metric("bw_mib_s", j.value[F_BW] / 1048576.0);
    rvb_metric("clat_mean_ns", j.value[F_CLAT_MEAN]);
    rvb_metric("clat_p99_ns", j.value[F_CLAT_P99]);
    if (j.seen[F_LAT_MEAN]) rvb_metric("lat_mean_ns", j.value[F_LAT_MEAN]);
    rvb_metric("ios", j.value[F_TOTAL_IOS]);
    rvb_metric("io_bytes", j.value[F_IO_BYTES]);
    rvb_metric("runtime_ms", j.value[F_RUNTIME]);
    rvb_metric("verified_bytes", (double)bytes);
    rvb_info("device", device);
    rvb_info("fio_version", j.version);
    rvb_info("pattern", "rvbench-data-v1");
    fflush(stdout);

    if (j.value[F_ERROR] != 0) fail("fio reported an error in its job");
    if (j.value[F_TOTAL_IOS] < 1) fail("fio completed no reads");
    if (j.seen[F_WRITE_BYTES] && j.value[F_WRITE_BYTES] != 0) fail("fio wrote to the data disk");
    char hex[65];
    verify_content(device, bytes, hex);
    // What the iteration read from the data disk (fio's reads and the read-back), and the interrupts the
    // kernel took meanwhile: the denominators and the interrupt count of rvbench's per-MB datapath figures.
    rvb_metric("data_mb", (j.value[F_IO_BYTES] + (double)bytes) / 1e6);
    double interrupts_after = interrupts_so_far();
    if (interrupts_before >= 0 && interrupts_after >= interrupts_before)
        rvb_metric("interrupts", interrupts_after - interrupts_before);
    printf("checksum %s\nverify ok\n", hex);
    return 0;
}
