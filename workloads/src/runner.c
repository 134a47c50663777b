// SPDX-License-Identifier: GPL-3.0-or-later
// rvbench-runner: runs the requested workloads (warm-up, then measured
// iterations) and prints one `@@rvbench v1 {json}` line per result, then
// `@@rvbench v1 done {json}` or `@@rvbench v1 error {json}`.
//
// As PID 1 (the /init of an L2 guest's initramfs) it mounts proc, sys and
// devtmpfs, reads its configuration from /proc/cmdline (rvbench.*), mounts
// the workload disk read-only at /mnt, runs each workload chrooted there and
// powers the guest off. As a normal program it takes the same settings as
// options; see usage().
//
// Workload definitions come from <root>/opt/rvbench/workloads.conf, a
// line-based file generated from the JSON manifests (scripts/manifests.py).
// Wall time comes from the clock_gettime system call (CLOCK_MONOTONIC), not
// the vDSO, because user-mode rdtime can trap in KVM guests.
#define _GNU_SOURCE
#include "json.h"
#include "report.h"
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define RVB_PREFIX "@@rvbench v1 "
#define RVB_MAX_LINE 4096 /* bytes per protocol line, newline excluded */
#define MAX_WORKLOADS 64
#define MAX_ARGS 64
#define MAX_SELECTED 64
#define KEEP_STDOUT (64 * 1024)
#define STDERR_TAIL 480
#define MAX_METRICS 24
#define MAX_INFO 6

/* ---------------------------------------------------------------- JSON -- */

/* A protocol line's JSON body, bounded so that the prefix, the kind and the newline still fit.
 * The writer itself is workloads/common/json.c, shared with rvbench-probe. */
typedef struct {
    rvb_json j;
    char storage[RVB_MAX_LINE + 1];
} jbuf;

static void jb_init(jbuf *b) { rvb_json_init_bounded(&b->j, b->storage, RVB_MAX_LINE - sizeof(RVB_PREFIX)); }

static void jb_open(jbuf *j) { rvb_json_begin(&j->j, '{'); }

static void jb_close(jbuf *j) { rvb_json_end(&j->j, '}'); }

static void jb_key(jbuf *j, const char *k) { rvb_json_key(&j->j, k, 400); }

/* A value that is JSON text already: a number, true, false, null, or a whole object. */
static void jb_value(jbuf *j, const char *json) { rvb_json_value(&j->j, json); }

#define jb_fmt(b, ...) rvb_json_value_fmt(&(b)->j, __VA_ARGS__)

static void jb_str_n(jbuf *j, const char *s, size_t n, size_t limit) { rvb_json_value_string(&j->j, s, n, limit); }

static void jb_str(jbuf *j, const char *s) { jb_str_n(j, s, strlen(s), 400); }

static void jb_number(jbuf *j, double v) {
    if (!isfinite(v)) { jb_value(j, "null"); return; }
    if (v == floor(v) && fabs(v) < 1e15) jb_fmt(j, "%.0f", v);
    else jb_fmt(j, "%.9g", v);
}

/// Writes one protocol line with a single write(2) so console lines never interleave.
static void emit(const char *kind, jbuf *j) {
    char line[RVB_MAX_LINE + 2];
    int n;
    if (kind) n = snprintf(line, sizeof line, "%s%s %s\n", RVB_PREFIX, kind, j->j.p);
    else n = snprintf(line, sizeof line, "%s%s\n", RVB_PREFIX, j->j.p);
    if (n < 0 || n > RVB_MAX_LINE + 1) return; /* cannot happen: jb_init bounds the body */
    fflush(stdout);
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = write(STDOUT_FILENO, line + off, (size_t)n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

/* -------------------------------------------------------------- config -- */

typedef enum { MODE_REPORT, MODE_FRAMEMD5 } out_mode;

typedef struct {
    char name[48];
    out_mode mode;
    char expect[160];
    int timeout_s;
    int argc;
    char *argv[MAX_ARGS + 1];
} workload;

static workload workloads[MAX_WORKLOADS];
static int n_workloads;

static struct {
    char root[512];
    char config[512];
    char wrapper[512];
    char seed[64];
    char device[128];
    char fstype[32];
    char selection[1024];
    long iterations, warmup;
    long linger; /* PID 1: seconds to wait after the last line before powering off */
    char fault[16]; /* fault injection for rvbench's own fault tests: "", "hang" or "garbage" */
    int timeout_override;
    bool pid1;
} opt = {
    .root = "/",
    .device = "/dev/vda",
    .fstype = "ext4",
    .selection = "all",
    .iterations = 5,
    .warmup = 1,
};

static void fatal(const char *workload_name, const char *fmt, ...);

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '_')) return false;
    return true;
}

static void load_config(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) fatal(NULL, "cannot open workload definitions %s: %s; build workloads/ and install build/out at /opt/rvbench", path, strerror(errno));
    char line[1100];
    int lineno = 0;
    workload *w = NULL;
    bool header = false;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] != '\n' && !feof(f)) fatal(NULL, "%s:%d: line too long", path, lineno);
        if (n > 0 && line[n - 1] == '\n') line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        char *sp = strchr(line, ' ');
        const char *key = line, *val = "";
        if (sp) { *sp = 0; val = sp + 1; }
        if (!header) {
            if (strcmp(key, "rvbench-workloads") != 0 || strcmp(val, "1") != 0)
                fatal(NULL, "%s: not an rvbench-workloads 1 file", path);
            header = true;
            continue;
        }
        if (strcmp(key, "workload") == 0) {
            if (w) fatal(NULL, "%s:%d: workload without end", path, lineno);
            if (n_workloads == MAX_WORKLOADS) fatal(NULL, "%s: too many workloads", path);
            if (!valid_name(val)) fatal(NULL, "%s:%d: bad workload name", path, lineno);
            w = &workloads[n_workloads];
            memset(w, 0, sizeof *w);
            snprintf(w->name, sizeof w->name, "%s", val);
            w->timeout_s = 600;
            w->mode = MODE_REPORT;
        } else if (!w) {
            fatal(NULL, "%s:%d: %s outside a workload", path, lineno, key);
        } else if (strcmp(key, "mode") == 0) {
            if (strcmp(val, "report") == 0) w->mode = MODE_REPORT;
            else if (strcmp(val, "framemd5") == 0) w->mode = MODE_FRAMEMD5;
            else fatal(NULL, "%s:%d: unknown mode", path, lineno);
        } else if (strcmp(key, "expect") == 0) {
            if (strlen(val) == 0 || strlen(val) >= sizeof w->expect) fatal(NULL, "%s:%d: bad expect", path, lineno);
            snprintf(w->expect, sizeof w->expect, "%s", val);
        } else if (strcmp(key, "timeout") == 0) {
            char *end;
            long t = strtol(val, &end, 10);
            if (*end || t < 1 || t > 86400) fatal(NULL, "%s:%d: bad timeout", path, lineno);
            w->timeout_s = (int)t;
        } else if (strcmp(key, "arg") == 0) {
            if (w->argc == MAX_ARGS) fatal(NULL, "%s:%d: too many arguments", path, lineno);
            w->argv[w->argc] = strdup(val);
            if (!w->argv[w->argc]) fatal(NULL, "out of memory");
            w->argc++;
        } else if (strcmp(key, "end") == 0) {
            if (w->argc == 0 || w->argv[0][0] != '/') fatal(NULL, "%s:%d: workload %s needs an absolute program path", path, lineno, w->name);
            if (!w->expect[0]) fatal(NULL, "%s:%d: workload %s has no expected checksum", path, lineno, w->name);
            n_workloads++;
            w = NULL;
        } else {
            fatal(NULL, "%s:%d: unknown key %s", path, lineno, key);
        }
    }
    fclose(f);
    if (!header || w) fatal(NULL, "%s: truncated workload definitions", path);
}

static workload *find_workload(const char *name) {
    for (int i = 0; i < n_workloads; i++)
        if (strcmp(workloads[i].name, name) == 0) return &workloads[i];
    return NULL;
}

/* ------------------------------------------------------------ failures -- */

static void power_off(void) {
    sync();
    /* Lets the host read this VM's KVM statistics, which vanish with the VM; the host
       destroys the guest as soon as it has them. */
    if (opt.linger > 0) sleep((unsigned)opt.linger);
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

static void finish(int status) {
    if (opt.pid1) power_off();
    exit(status);
}

/// Prints `@@rvbench v1 error {...}` and ends the run (powering off as PID 1).
static void fatal_detail(const char *workload_name, long iteration, const char *phase, const char *tail, size_t tail_n,
                         const char *msg) {
    jbuf j;
    jb_init(&j);
    jb_open(&j);
    jb_key(&j, "reason");
    jb_str_n(&j, msg, strlen(msg), 1000);
    if (workload_name) {
        jb_key(&j, "workload");
        jb_str(&j, workload_name);
    }
    if (phase) {
        jb_key(&j, "phase");
        jb_str(&j, phase);
        jb_key(&j, "iteration");
        jb_fmt(&j, "%ld", iteration);
    }
    if (tail && tail_n) {
        jb_key(&j, "stderr_tail");
        jb_str_n(&j, tail, tail_n, 2 * STDERR_TAIL);
    }
    jb_close(&j);
    if (j.j.overflow) {
        jb_init(&j);
        jb_value(&j, "{\"reason\":\"error report too long\"}");
    }
    emit("error", &j);
    finish(1);
}

static void fatal(const char *workload_name, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fatal_detail(workload_name, 0, NULL, NULL, 0, msg);
}

/* ------------------------------------------------------------- mounts -- */

static void try_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    mkdir(dst, 0755); /* a root made with mmdebstrap's extract variant may lack the directory */
    if (mount(src, dst, type, flags, data) != 0 && errno != EBUSY)
        fprintf(stderr, "rvbench-runner: mount %s on %s: %s\n", type ? type : src, dst, strerror(errno));
}

static void path_join(char *out, size_t n, const char *a, const char *b) {
    if (strcmp(a, "/") == 0) snprintf(out, n, "%s", b);
    else snprintf(out, n, "%s%s", a, b);
}

/// Mounts proc, sys, dev and a tmpfs /tmp inside the workload root (when not
/// there already). Outside PID 1 this happens in a private mount namespace, so
/// nothing outlives the runner.
static void prepare_root(void) {
    if (strcmp(opt.root, "/") == 0) return;
    char p[600];
    path_join(p, sizeof p, opt.root, "/proc/self");
    if (access(p, F_OK) == 0) return;
    if (!opt.pid1) {
        if (unshare(CLONE_NEWNS) != 0)
            fatal(NULL, "unshare(CLONE_NEWNS): %s; run as root (the runner mounts proc, sys and dev in the root)", strerror(errno));
        if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            fatal(NULL, "making mounts private: %s", strerror(errno));
    }
    path_join(p, sizeof p, opt.root, "/proc");
    try_mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    path_join(p, sizeof p, opt.root, "/sys");
    try_mount("sysfs", p, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    path_join(p, sizeof p, opt.root, "/dev");
    if (opt.pid1) try_mount("devtmpfs", p, "devtmpfs", MS_NOSUID, NULL);
    else try_mount("/dev", p, NULL, MS_BIND | MS_REC, NULL);
    path_join(p, sizeof p, opt.root, "/tmp");
    try_mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m");
}

static void pid1_setup(void) {
    mkdir("/proc", 0555);
    mkdir("/sys", 0555);
    mkdir("/dev", 0755);
    mkdir("/mnt", 0755);
    try_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    try_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    try_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL);
    /* the console: the kernel opened it for PID 1 if /dev/console existed in the initramfs */
    if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2) close(fd);
        }
    }
}

static void pid1_mount_disk(void) {
    int64_t deadline = rvb_now_ns() + 20LL * 1000000000LL;
    while (access(opt.device, F_OK) != 0) {
        if (rvb_now_ns() > deadline) fatal(NULL, "workload disk %s did not appear; attach the workload image as the first virtio disk", opt.device);
        usleep(100000);
    }
    if (mount(opt.device, "/mnt", opt.fstype, MS_RDONLY, NULL) != 0)
        fatal(NULL, "mounting %s (%s) read-only at /mnt: %s", opt.device, opt.fstype, strerror(errno));
    snprintf(opt.root, sizeof opt.root, "/mnt");
}

/* ---------------------------------------------------------- settings -- */

static long parse_count(const char *what, const char *v, long max) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0 || n > max) fatal(NULL, "bad %s '%s': expected an integer 0..%ld", what, v, max);
    return n;
}

static void set_option(const char *key, const char *val) {
    if (strcmp(key, "workloads") == 0) snprintf(opt.selection, sizeof opt.selection, "%s", val);
    else if (strcmp(key, "iterations") == 0) opt.iterations = parse_count("iterations", val, 100000);
    else if (strcmp(key, "warmup") == 0) opt.warmup = parse_count("warmup", val, 1000);
    else if (strcmp(key, "seed") == 0) snprintf(opt.seed, sizeof opt.seed, "%s", val);
    else if (strcmp(key, "timeout") == 0) opt.timeout_override = (int)parse_count("timeout", val, 86400);
    else if (strcmp(key, "device") == 0) snprintf(opt.device, sizeof opt.device, "%s", val);
    else if (strcmp(key, "linger") == 0) opt.linger = parse_count("linger", val, 3600);
    else if (strcmp(key, "fault") == 0) {
        if (strcmp(val, "hang") != 0 && strcmp(val, "garbage") != 0 && strcmp(val, "none") != 0)
            fatal(NULL, "bad fault '%s': expected hang, garbage or none", val);
        snprintf(opt.fault, sizeof opt.fault, "%s", strcmp(val, "none") == 0 ? "" : val);
    }
    else if (strcmp(key, "fstype") == 0) snprintf(opt.fstype, sizeof opt.fstype, "%s", val);
    else if (strcmp(key, "root") == 0) snprintf(opt.root, sizeof opt.root, "%s", val);
    else if (strcmp(key, "config") == 0) snprintf(opt.config, sizeof opt.config, "%s", val);
    else if (strcmp(key, "wrapper") == 0) snprintf(opt.wrapper, sizeof opt.wrapper, "%s", val);
    else fatal(NULL, "unknown setting %s", key);
}

static void read_cmdline(void) {
    FILE *f = fopen("/proc/cmdline", "r");
    if (!f) return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    for (char *tok = strtok(buf, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
        if (strncmp(tok, "rvbench.", 8) != 0) continue;
        char *eq = strchr(tok, '=');
        if (!eq) continue;
        *eq = 0;
        const char *key = tok + 8;
        if (strcmp(key, "root") == 0 || strcmp(key, "wrapper") == 0 || strcmp(key, "config") == 0)
            fatal(NULL, "rvbench.%s is not accepted on the kernel command line", key);
        set_option(key, eq + 1);
    }
}

static void usage(void) {
    fprintf(stderr,
            "usage: rvbench-runner [--root DIR] [--workloads a,b|all] [--iterations N] [--warmup W]\n"
            "                      [--seed S] [--timeout SECONDS] [--config FILE] [--wrapper PROGRAM] [--list]\n"
            "                      [--fault hang|garbage]\n"
            "Runs rvbench workloads chrooted into DIR (default /) and prints @@rvbench v1 result lines.\n"
            "As PID 1 it reads rvbench.* settings from /proc/cmdline, mounts rvbench.device (default /dev/vda)\n"
            "read-only at /mnt, runs there and powers off.\n");
}

/* ------------------------------------------------------------ counters -- */

typedef struct {
    int fd[2];
    char unavailable[200];
} counters;

static const char *counter_names[2] = {"cycles", "instructions"};

static void counters_open(counters *c, pid_t pid) {
    static const uint64_t configs[2] = {PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS};
    c->unavailable[0] = 0;
    for (int i = 0; i < 2; i++) {
        struct perf_event_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.type = PERF_TYPE_HARDWARE;
        a.config = configs[i];
        a.disabled = 1;
        a.enable_on_exec = 1;
        a.inherit = 1;
        a.exclude_hv = 1;
        a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        c->fd[i] = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
        if (c->fd[i] < 0) {
            size_t u = strlen(c->unavailable);
            snprintf(c->unavailable + u, sizeof c->unavailable - u, "%sperf_event_open(%s): %s", u ? "; " : "",
                     counter_names[i], strerror(errno));
        }
    }
}

/// Adds "counters" (and "counters_unavailable" with the reason) to j. A
/// counter that could not be read is left out, never reported as 0.
static void counters_finish(counters *c, jbuf *j) {
    char reason[400];
    snprintf(reason, sizeof reason, "%s", c->unavailable);
    jb_key(j, "counters");
    jb_open(j);
    bool scaled = false;
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] < 0) continue;
        uint64_t v[3];
        ssize_t r = read(c->fd[i], v, sizeof v);
        close(c->fd[i]);
        size_t u = strlen(reason);
        if (r != (ssize_t)sizeof v) {
            snprintf(reason + u, sizeof reason - u, "%sread(%s) failed", u ? "; " : "", counter_names[i]);
            continue;
        }
        if (v[2] == 0) {
            snprintf(reason + u, sizeof reason - u, "%s%s never counted (not supported here?)", u ? "; " : "", counter_names[i]);
            continue;
        }
        double value = (double)v[0];
        if (v[2] < v[1]) {
            value = value * (double)v[1] / (double)v[2];
            scaled = true;
        }
        jb_key(j, counter_names[i]);
        jb_fmt(j, "%.0f", value);
    }
    jb_close(j);
    if (scaled) {
        jb_key(j, "counters_scaled");
        jb_value(j, "true");
    }
    if (reason[0]) {
        jb_key(j, "counters_unavailable");
        jb_str(j, reason);
    }
}

/* ----------------------------------------------------------- run one -- */

typedef struct {
    rvb_sha256 sha;
    char keep[KEEP_STDOUT + 1];
    size_t kept;
    bool kept_all;
    uint64_t lines; /* framemd5 frame lines: complete lines not starting with '#' */
    bool at_line_start, comment_line, line_has_data;
    char tail[STDERR_TAIL];
    size_t tail_n;
} capture;

static void capture_stdout(capture *c, const char *p, size_t n) {
    rvb_sha256_update(&c->sha, p, n);
    size_t room = KEEP_STDOUT - c->kept;
    if (n > room) c->kept_all = false;
    size_t take = n < room ? n : room;
    memcpy(c->keep + c->kept, p, take);
    c->kept += take;
    for (size_t i = 0; i < n; i++) {
        if (c->at_line_start) {
            c->comment_line = p[i] == '#';
            c->at_line_start = false;
            c->line_has_data = false;
        }
        if (p[i] == '\n') {
            if (!c->comment_line && c->line_has_data) c->lines++;
            c->at_line_start = true;
        } else {
            c->line_has_data = true;
        }
    }
}

static void capture_stderr(capture *c, const char *p, size_t n) {
    if (n >= STDERR_TAIL) {
        memcpy(c->tail, p + n - STDERR_TAIL, STDERR_TAIL);
        c->tail_n = STDERR_TAIL;
        return;
    }
    if (c->tail_n + n > STDERR_TAIL) {
        size_t drop = c->tail_n + n - STDERR_TAIL;
        memmove(c->tail, c->tail + drop, c->tail_n - drop);
        c->tail_n -= drop;
    }
    memcpy(c->tail + c->tail_n, p, n);
    c->tail_n += n;
}

static capture cap; /* large: keep it off the stack */

static bool metric_name_ok(const char *s, size_t n) {
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_')) return false;
    return true;
}

/// Results of interpreting a workload's stdout.
typedef struct {
    char checksum[200];
    bool have_checksum, verify_ok;
    char problem[200];
} verdict;

static void add_problem(verdict *v, const char *msg) {
    if (!v->problem[0]) snprintf(v->problem, sizeof v->problem, "%s", msg);
}

static bool seen_before(char (*seen)[41], int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(seen[i], name) == 0) return true;
    return false;
}

/// Parses report-mode lines into "metrics" and "info" objects of j.
static void parse_report(const workload *w, verdict *v, jbuf *metrics, jbuf *info) {
    (void)w;
    int n_metrics = 0, n_info = 0, n_verify = 0;
    char seen_metrics[MAX_METRICS][41], seen_info[MAX_INFO][41]; /* JSON keys must be unique */
    cap.keep[cap.kept] = 0;
    char *save = NULL;
    for (char *line = strtok_r(cap.keep, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "metric ", 7) == 0) {
            char *name = line + 7, *sp = strchr(name, ' ');
            if (!sp || !metric_name_ok(name, (size_t)(sp - name))) { add_problem(v, "malformed metric line"); continue; }
            *sp = 0;
            char *end;
            double value = strtod(sp + 1, &end);
            if (end == sp + 1 || *end || !isfinite(value)) { add_problem(v, "metric value is not a finite number"); continue; }
            if (n_metrics == MAX_METRICS) { add_problem(v, "too many metrics"); continue; }
            if (seen_before(seen_metrics, n_metrics, name)) { add_problem(v, "duplicate metric name"); continue; }
            snprintf(seen_metrics[n_metrics], sizeof seen_metrics[0], "%s", name);
            jb_key(metrics, name);
            jb_number(metrics, value);
            n_metrics++;
        } else if (strncmp(line, "checksum ", 9) == 0) {
            if (v->have_checksum) { add_problem(v, "more than one checksum line"); continue; }
            snprintf(v->checksum, sizeof v->checksum, "%s", line + 9);
            v->have_checksum = true;
        } else if (strcmp(line, "verify ok") == 0) {
            n_verify++;
            v->verify_ok = true;
        } else if (strncmp(line, "verify fail", 11) == 0) {
            n_verify++;
            char msg[200];
            snprintf(msg, sizeof msg, "workload verification failed:%s", line + 11);
            add_problem(v, msg);
        } else if (strncmp(line, "info ", 5) == 0) {
            char *key = line + 5, *sp = strchr(key, ' ');
            if (!sp || !metric_name_ok(key, (size_t)(sp - key)) || n_info == MAX_INFO) { add_problem(v, "malformed info line"); continue; }
            *sp = 0;
            if (seen_before(seen_info, n_info, key)) { add_problem(v, "duplicate info key"); continue; }
            snprintf(seen_info[n_info], sizeof seen_info[0], "%s", key);
            jb_key(info, key);
            jb_str_n(info, sp + 1, strlen(sp + 1), 160);
            n_info++;
        }
    }
    if (n_verify != 1) {
        add_problem(v, n_verify == 0 ? "workload printed no verify line" : "workload printed several verify lines");
        v->verify_ok = false;
    }
    if (!v->have_checksum) add_problem(v, "workload printed no checksum");
}

static char *const *child_env(void) {
    static char *env[8];
    static char seed[96];
    int n = 0;
    env[n++] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    env[n++] = "HOME=/tmp";
    env[n++] = "LC_ALL=C";
    env[n++] = "TMPDIR=/tmp";
    if (opt.seed[0]) {
        snprintf(seed, sizeof seed, "RVBENCH_SEED=%s", opt.seed);
        env[n++] = seed;
    }
    env[n] = NULL;
    return env;
}

static uint64_t tv_ns(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000000ULL + (uint64_t)tv.tv_usec * 1000ULL; }

static int checksum_failures, results_printed;

static void run_one(const workload *w, const char *phase, long iteration) {
    int out[2], err[2], go[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) fatal(w->name, "pipe: %s", strerror(errno));
    char *argv[MAX_ARGS + 2];
    int a = 0;
    if (opt.wrapper[0]) argv[a++] = opt.wrapper;
    for (int i = 0; i < w->argc; i++) argv[a++] = w->argv[i];
    argv[a] = NULL;
    char *const *env = child_env();
    fflush(stdout);
    fflush(stderr);

    pid_t pid = fork();
    if (pid < 0) fatal(w->name, "fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        char byte;
        if (read(go[0], &byte, 1) != 1) _exit(126);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0) null = open("/", O_RDONLY | O_DIRECTORY);
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (strcmp(opt.root, "/") != 0 && chroot(opt.root) != 0) {
            dprintf(2, "chroot %s: %s\n", opt.root, strerror(errno));
            _exit(127);
        }
        if (chdir("/tmp") != 0 && chdir("/") != 0) _exit(127);
        execve(argv[0], argv, env);
        dprintf(2, "execve %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    close(go[0]);
    setpgid(pid, pid);

    counters ctr;
    counters_open(&ctr, pid);

    memset(&cap, 0, sizeof cap);
    rvb_sha256_init(&cap.sha);
    cap.kept_all = true;
    cap.at_line_start = true;

    int timeout_s = opt.timeout_override ? opt.timeout_override : w->timeout_s;
    int64_t t0 = rvb_now_ns();
    int64_t deadline = t0 + (int64_t)timeout_s * 1000000000LL;
    if (write(go[1], "g", 1) != 1) fatal(w->name, "starting the workload: %s", strerror(errno));
    close(go[1]);

    bool timed_out = false;
    struct pollfd fds[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
    int open_fds = 2;
    char buf[16384];
    while (open_fds > 0) {
        int64_t left = deadline - rvb_now_ns();
        if (left <= 0 && !timed_out) {
            timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        int ms = timed_out ? 1000 : (int)(left / 1000000 + 1);
        int r = poll(fds, 2, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fatal(w->name, "poll: %s", strerror(errno));
        if (r == 0 && timed_out) break; /* grandchildren holding the pipe: stop reading */
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 0) capture_stdout(&cap, buf, (size_t)n);
            else capture_stderr(&cap, buf, (size_t)n);
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) fatal(w->name, "wait4: %s", strerror(errno));
    }
    int64_t t1 = rvb_now_ns();
    kill(-pid, SIGKILL); /* nothing the workload started may outlive it */

    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        for (int i = 0; i < 2; i++)
            if (ctr.fd[i] >= 0) close(ctr.fd[i]);
        char msg[200];
        if (timed_out) snprintf(msg, sizeof msg, "workload timed out after %d s; raise its timeout or shrink its parameters", timeout_s);
        else if (WIFSIGNALED(status)) snprintf(msg, sizeof msg, "workload killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else snprintf(msg, sizeof msg, "workload exited with status %d", WEXITSTATUS(status));
        fatal_detail(w->name, iteration, phase, cap.tail, cap.tail_n, msg);
    }

    verdict v;
    memset(&v, 0, sizeof v);
    jbuf metrics, info;
    jb_init(&metrics);
    jb_init(&info);
    jb_open(&metrics);
    jb_open(&info);
    double wall_s = (double)(t1 - t0) / 1e9;
    if (w->mode == MODE_REPORT) {
        if (!cap.kept_all) add_problem(&v, "workload output exceeds 64 KiB");
        parse_report(w, &v, &metrics, &info);
    } else {
        rvb_sha256_final_hex(&cap.sha, v.checksum);
        v.have_checksum = true;
        v.verify_ok = cap.lines > 0;
        if (!v.verify_ok) add_problem(&v, "no frames in the framemd5 output");
        jb_key(&metrics, "frames");
        jb_fmt(&metrics, "%llu", (unsigned long long)cap.lines);
        jb_key(&metrics, "fps");
        jb_number(&metrics, wall_s > 0 ? (double)cap.lines / wall_s : 0);
        /* ffmpeg -benchmark ends stderr with "bench: utime=Us stime=Ss rtime=Rs": the
           time of its processing loop, without process start-up and library loading */
        char tail[STDERR_TAIL + 1];
        memcpy(tail, cap.tail, cap.tail_n);
        tail[cap.tail_n] = 0;
        const char *b = strstr(tail, "bench: utime=");
        double ut, st, rt;
        if (b && sscanf(b, "bench: utime=%lfs stime=%lfs rtime=%lfs", &ut, &st, &rt) == 3 && rt > 0 && isfinite(rt)) {
            jb_key(&metrics, "codec_s");
            jb_number(&metrics, rt);
            jb_key(&metrics, "codec_fps");
            jb_number(&metrics, (double)cap.lines / rt);
        }
    }
    jb_close(&metrics);
    jb_close(&info);
    bool ok = v.have_checksum && v.verify_ok && !v.problem[0] && strcmp(v.checksum, w->expect) == 0;
    if (v.have_checksum && strcmp(v.checksum, w->expect) != 0) add_problem(&v, "checksum differs from the manifest");

    jbuf j;
    jb_init(&j);
    jb_open(&j);
    jb_key(&j, "workload");
    jb_str(&j, w->name);
    jb_key(&j, "iteration");
    jb_fmt(&j, "%ld", iteration);
    jb_key(&j, "phase");
    jb_str(&j, phase);
    jb_key(&j, "wall_ns");
    jb_fmt(&j, "%lld", (long long)(t1 - t0));
    jb_key(&j, "user_ns");
    jb_fmt(&j, "%llu", (unsigned long long)tv_ns(ru.ru_utime));
    jb_key(&j, "sys_ns");
    jb_fmt(&j, "%llu", (unsigned long long)tv_ns(ru.ru_stime));
    jb_key(&j, "max_rss_kb");
    jb_fmt(&j, "%ld", ru.ru_maxrss);
    jb_key(&j, "metrics");
    if (metrics.j.overflow) jb_value(&j, "{}");
    else rvb_json_value_n(&j.j, metrics.j.p, metrics.j.n);
    if (info.j.n > 2 && !info.j.overflow) {
        jb_key(&j, "info");
        rvb_json_value_n(&j.j, info.j.p, info.j.n);
    }
    jb_key(&j, "checksum");
    jb_str_n(&j, v.checksum, strlen(v.checksum), 200);
    jb_key(&j, "checksum_ok");
    jb_value(&j, ok ? "true" : "false");
    if (!ok) {
        jb_key(&j, "verify_problem");
        jb_str(&j, v.problem[0] ? v.problem : "unknown");
    }
    counters_finish(&ctr, &j);
    jb_close(&j);
    if (j.j.overflow) fatal_detail(w->name, iteration, phase, NULL, 0, "result line would exceed 4096 bytes");
    emit(NULL, &j);
    results_printed++;
    if (!ok) checksum_failures++;
}

/* ----------------------------------------------------- fault injection -- */

/// Misbehaves on purpose, after the first measured result, so that rvbench's fault tests can check
/// the controller on the real path: "hang" stops making progress for good; "garbage" prints what a
/// broken guest might (binary noise, invalid UTF-8, markup, an oversized line, forged protocol lines)
/// and then carries on.
static void inject_fault(void) {
    fflush(stdout);
    if (strcmp(opt.fault, "hang") == 0) {
        for (;;) pause();
    }
    static char big[RVB_MAX_LINE * 3];
    memset(big, 'A', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = 0;
    /* Four lines in five are rejected: 800 of them, four times the controller's limit of 200, so that the
     * limit is reached even if a loaded host's serial port drops bytes and merges some lines. */
    for (int i = 0; i < 1000; i++) {
        char line[256];
        int n;
        switch (i % 5) {
        case 0: n = snprintf(line, sizeof line, "%s{\"workload\":\"<script>alert(%d)</script>\"}\n", RVB_PREFIX, i); break;
        case 1: n = snprintf(line, sizeof line, "%sresult {\"wall_ns\": -1, \"x\": \xff\xfe}\n", RVB_PREFIX); break;
        case 2: {
            static const char noise[] = "\x1b[2J\x00\x01\x02 garbage \xc3\x28\n";
            memcpy(line, noise, sizeof noise - 1);
            n = (int)(sizeof noise - 1);
            break;
        }
        case 3: n = snprintf(line, sizeof line, "@@rvbench v9 done {}\n"); break;
        default: n = snprintf(line, sizeof line, "%s\n", RVB_PREFIX); break;
        }
        if (n > 0) (void)!write(STDOUT_FILENO, line, (size_t)n);
        if (i == 100) (void)!write(STDOUT_FILENO, big, sizeof big - 1);
    }
}

/* --------------------------------------------------------------- main -- */

int main(int argc, char **argv) {
    opt.pid1 = getpid() == 1;
    if (opt.pid1) {
        pid1_setup();
        read_cmdline();
    }
    bool list = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(); return 0; }
        if (strcmp(a, "--list") == 0) { list = true; continue; }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            if (opt.pid1) continue; /* the kernel passes unknown init arguments */
            usage();
            return 64;
        }
        set_option(a + 2, argv[++i]);
    }
    if (opt.pid1 && strcmp(opt.root, "/") == 0) pid1_mount_disk();
    char config[600];
    if (opt.config[0]) snprintf(config, sizeof config, "%s", opt.config);
    else path_join(config, sizeof config, opt.root, "/opt/rvbench/workloads.conf");
    load_config(config);
    if (list) {
        for (int i = 0; i < n_workloads; i++) printf("%s\n", workloads[i].name);
        return 0;
    }

    const workload *selected[MAX_SELECTED];
    int n_selected = 0;
    if (strcmp(opt.selection, "all") == 0) {
        for (int i = 0; i < n_workloads && n_selected < MAX_SELECTED; i++) selected[n_selected++] = &workloads[i];
    } else {
        char sel[sizeof opt.selection];
        snprintf(sel, sizeof sel, "%s", opt.selection);
        char *save = NULL;
        for (char *name = strtok_r(sel, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            const workload *w = find_workload(name);
            if (!w) fatal(NULL, "unknown workload '%s'; rvbench-runner --list shows the installed ones", name);
            if (n_selected == MAX_SELECTED) fatal(NULL, "too many workloads selected");
            selected[n_selected++] = w;
        }
    }
    if (n_selected == 0) fatal(NULL, "no workloads selected");
    prepare_root();
    signal(SIGPIPE, SIG_IGN);

    int64_t start = rvb_now_ns();
    for (int s = 0; s < n_selected; s++) {
        for (long i = 0; i < opt.warmup; i++) run_one(selected[s], "warmup", i);
        for (long i = 0; i < opt.iterations; i++) {
            run_one(selected[s], "measure", i);
            if (s == 0 && i == 0 && opt.fault[0]) inject_fault();
        }
    }

    jbuf j;
    jb_init(&j);
    struct utsname u;
    memset(&u, 0, sizeof u);
    uname(&u);
    jb_open(&j);
    jb_key(&j, "results");
    jb_fmt(&j, "%d", results_printed);
    jb_key(&j, "checksum_failures");
    jb_fmt(&j, "%d", checksum_failures);
    jb_key(&j, "iterations");
    jb_fmt(&j, "%ld", opt.iterations);
    jb_key(&j, "warmup");
    jb_fmt(&j, "%ld", opt.warmup);
    jb_key(&j, "elapsed_ns");
    jb_fmt(&j, "%lld", (long long)(rvb_now_ns() - start));
    jb_key(&j, "workloads");
    rvb_json_begin(&j.j, '[');
    for (int s = 0; s < n_selected; s++) jb_str(&j, selected[s]->name);
    rvb_json_end(&j.j, ']');
    if (opt.seed[0]) {
        jb_key(&j, "seed");
        jb_str(&j, opt.seed);
    }
    jb_key(&j, "kernel");
    jb_str(&j, u.release);
    jb_key(&j, "machine");
    jb_str(&j, u.machine);
    jb_key(&j, "pid1");
    jb_value(&j, opt.pid1 ? "true" : "false");
    jb_close(&j);
    if (j.j.overflow) fatal(NULL, "summary would exceed 4096 bytes");
    emit("done", &j);
    finish(checksum_failures ? 2 : 0);
}
