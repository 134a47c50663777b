// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * rvbench-probe: the host agent that rvbench copies to a riscv64 KVM host and runs over SSH.
 *
 *   rvbench-probe [--root DIR] [--no-mount] facts
 *   rvbench-probe [--root DIR] [--no-mount] kvm-stats
 *   rvbench-probe perf --pid PID [--threads] --events LIST -- SECONDS|until-stdin-eof
 *   rvbench-probe version
 *
 * Every command prints one JSON document on stdout and exits 0; on failure it prints
 * {"error": "..."} on stdout, the same text on stderr, and exits 1 (2 for bad usage).
 * Nothing is assumed: each fact is read or probed, and what cannot be known is null or "unknown".
 *
 * --root DIR (or RVBENCH_SYSFS_ROOT) prefixes every file path (/proc, /sys, /dev, /lib/modules),
 * so that recorded trees can be read in tests. With a root other than "/", the probes that ask
 * the running kernel (perf_event_open, KVM ioctls, mounting debugfs) are not done and say so.
 */
#define _GNU_SOURCE
#include "json.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_VERSION "0.1.0"
#define SCHEMA 1

/* Bounds: the probe never reads, lists or opens without a limit. */
#define MAX_FILE_BYTES (4u << 20)   /* /proc/cpuinfo, /proc/interrupts, modules.dep */
#define MAX_SMALL_FILE 4096         /* sysfs attribute files */
#define MAX_DIR_ENTRIES 4096
#define MAX_EVENTS 64
#define MAX_THREADS 1024
#define MAX_FDS 4000

/* Raw KVM ioctl numbers from linux/kvm.h (identical on riscv64, x86_64 and aarch64). */
#define RV_KVM_GET_API_VERSION 0xAE00UL
#define RV_KVM_CREATE_VM 0xAE01UL
#define RV_KVM_CREATE_DEVICE 0xC00CAEE0UL /* _IOWR(KVMIO, 0xe0, struct kvm_create_device) */
#define RV_KVM_DEV_TYPE_VFIO 4u
#define RV_KVM_CREATE_DEVICE_TEST 1u

struct rv_kvm_create_device {
    uint32_t type;
    uint32_t fd;
    uint32_t flags;
};

/* ------------------------------------------------------------------------------------------ */
/* Output: a JSON document in a growing buffer (workloads/common/json.c), written out only when it
 * is complete. */

static void die_oom(void)
{
    fputs("rvbench-probe: out of memory\n", stderr);
    exit(1);
}

static rvb_json J = {.out_of_memory = die_oom}; /* a growing writer: no bound, memory from realloc */

static void j_obj(void) { rvb_json_begin(&J, '{'); }
static void j_obj_end(void) { rvb_json_end(&J, '}'); }
static void j_arr(void) { rvb_json_begin(&J, '['); }
static void j_arr_end(void) { rvb_json_end(&J, ']'); }
static void j_key(const char *k) { rvb_json_key(&J, k, SIZE_MAX); }

static void j_str(const char *v)
{
    if (v) rvb_json_value_string(&J, v, strlen(v), SIZE_MAX);
    else rvb_json_value(&J, "null");
}

static void j_null(void) { rvb_json_value(&J, "null"); }
static void j_bool(int v) { rvb_json_value(&J, v ? "true" : "false"); }
static void j_u64(uint64_t v) { rvb_json_value_fmt(&J, "%" PRIu64, v); }
static void j_i64(int64_t v) { rvb_json_value_fmt(&J, "%" PRId64, v); }
static void j_double(double v) { rvb_json_value_fmt(&J, "%.6f", v); }

static void kv_str(const char *k, const char *v) { j_key(k); j_str(v); }
static void kv_bool(const char *k, int v) { j_key(k); j_bool(v); }
static void kv_u64(const char *k, uint64_t v) { j_key(k); j_u64(v); }
static void kv_i64(const char *k, int64_t v) { j_key(k); j_i64(v); }

/* Where j_flush writes: standard output, or standard error in `perf --exec` mode, whose standard
 * output belongs to the program it runs. */
static int g_json_fd = 1;

static void j_flush(void)
{
    rvb_json_raw(&J, "\n", 1);
    size_t off = 0;
    while (off < J.n) {
        ssize_t w = write(g_json_fd, J.p + off, J.n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) exit(1);
        off += (size_t)w;
    }
}

/* Prints {"error": msg} and exits with `code`. */
static void fail(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rvbench-probe: %s\n", msg);
    rvb_json_reset(&J);
    j_obj();
    kv_str("error", msg);
    j_obj_end();
    j_flush();
    exit(code);
}

/* ------------------------------------------------------------------------------------------ */
/* Files under the root prefix. */

static char g_root[PATH_MAX] = ""; /* "" means the real root "/" */
static int g_real_root = 1;
static int g_no_mount = 0;

/* Builds root + formatted absolute path into out. */
static const char *rpath(char *out, size_t n, const char *fmt, ...)
{
    char tail[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    snprintf(out, n, "%s%s", g_root, tail);
    return out;
}

/* Reads up to cap bytes of a file into a fresh NUL-terminated buffer; NULL with errno on failure. */
static char *read_all(const char *path, size_t cap, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap_alloc = 4096, n = 0;
    char *buf = malloc(cap_alloc + 1);
    if (!buf) die_oom();
    for (;;) {
        if (n == cap_alloc) {
            if (cap_alloc >= cap) break;
            cap_alloc *= 2;
            if (cap_alloc > cap) cap_alloc = cap;
            char *p = realloc(buf, cap_alloc + 1);
            if (!p) die_oom();
            buf = p;
        }
        ssize_t r = read(fd, buf + n, cap_alloc - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len_out) *len_out = n;
    return buf;
}

/* Reads a small attribute file, trimmed of surrounding whitespace, into out. 0 on success. */
static int read_attr(const char *path, char *out, size_t n)
{
    char *s = read_all(path, MAX_SMALL_FILE, NULL);
    if (!s) return -1;
    char *b = s;
    while (*b && isspace((unsigned char)*b)) b++;
    size_t len = strlen(b);
    while (len > 0 && isspace((unsigned char)b[len - 1])) len--;
    if (len >= n) len = n - 1;
    memcpy(out, b, len);
    out[len] = 0;
    free(s);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* basename of a symlink's target, into out; 0 on success. */
static int link_base(const char *path, char *out, size_t n)
{
    char t[PATH_MAX];
    ssize_t len = readlink(path, t, sizeof t - 1);
    if (len < 0) return -1;
    t[len] = 0;
    const char *b = strrchr(t, '/');
    snprintf(out, n, "%s", b ? b + 1 : t);
    return 0;
}

struct names {
    char **v;
    size_t n;
    int truncated;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted directory entries except "." and ".."; empty when the directory is missing. */
static struct names list_dir(const char *path)
{
    struct names r = {0};
    DIR *d = opendir(path);
    if (!d) return r;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (r.n == MAX_DIR_ENTRIES) {
            r.truncated = 1;
            break;
        }
        char **v = realloc(r.v, (r.n + 1) * sizeof *v);
        if (!v) die_oom();
        r.v = v;
        r.v[r.n] = strdup(e->d_name);
        if (!r.v[r.n]) die_oom();
        r.n++;
    }
    closedir(d);
    if (r.n) qsort(r.v, r.n, sizeof *r.v, cmp_names);
    return r;
}

static void free_names(struct names *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* uname, with --root reading proc/sys/kernel/{arch,osrelease} instead. */

static void host_identity(char *arch, size_t an, char *rel, size_t rn)
{
    char p[PATH_MAX];
    if (g_real_root) {
        struct utsname u;
        if (uname(&u) == 0) {
            snprintf(arch, an, "%s", u.machine);
            snprintf(rel, rn, "%s", u.release);
            return;
        }
    }
    if (read_attr(rpath(p, sizeof p, "/proc/sys/kernel/arch"), arch, an) != 0) snprintf(arch, an, "unknown");
    if (read_attr(rpath(p, sizeof p, "/proc/sys/kernel/osrelease"), rel, rn) != 0) rel[0] = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* /proc/cpuinfo: the ISA string and its extensions. */

struct isa_info {
    char isa[4096];
    char hart_isa[4096];
    char mmu[64];
    int harts;
};

static void trim_inplace(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) s[--len] = 0;
    size_t lead = 0;
    while (s[lead] && isspace((unsigned char)s[lead])) lead++;
    if (lead) memmove(s, s + lead, strlen(s + lead) + 1);
}

static void read_cpuinfo(struct isa_info *info)
{
    char p[PATH_MAX];
    memset(info, 0, sizeof *info);
    char *text = read_all(rpath(p, sizeof p, "/proc/cpuinfo"), MAX_FILE_BYTES, NULL);
    if (!text) return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char key[64];
        snprintf(key, sizeof key, "%s", line);
        trim_inplace(key);
        char *val = colon + 1;
        trim_inplace(val);
        if (!strcmp(key, "processor")) info->harts++;
        else if (!strcmp(key, "isa") && !info->isa[0]) snprintf(info->isa, sizeof info->isa, "%s", val);
        else if (!strcmp(key, "hart isa") && !info->hart_isa[0])
            snprintf(info->hart_isa, sizeof info->hart_isa, "%s", val);
        else if (!strcmp(key, "mmu") && !info->mmu[0]) snprintf(info->mmu, sizeof info->mmu, "%s", val);
    }
    free(text);
}

/*
 * Splits an ISA string such as "rv64imafdch_zicsr_sscofpmf" into extension names: the single
 * letters of the base ("i", "m", ..., "h") and each "_"-separated multi-letter name, lowercased.
 * Version suffixes ("2p0") are dropped. Emits a JSON array.
 */
static void emit_extensions(const char *isa_in, int *h, int *v, int *ssaia, int *smaia, int *sscofpmf)
{
    char isa[4096];
    size_t n = 0;
    for (; isa_in[n] && n < sizeof isa - 1; n++) isa[n] = (char)tolower((unsigned char)isa_in[n]);
    isa[n] = 0;
    *h = *v = *ssaia = *smaia = *sscofpmf = 0;
    j_arr();
    char *save = NULL;
    int first = 1;
    for (char *tok = strtok_r(isa, "_", &save); tok; tok = strtok_r(NULL, "_", &save)) {
        if (first) {
            first = 0;
            const char *s = tok;
            if (!strncmp(s, "rv32", 4) || !strncmp(s, "rv64", 4)) s += 4;
            else if (!strncmp(s, "rv128", 5)) s += 5;
            else continue;
            for (; *s; s++) {
                if (*s == 's' || *s == 'z' || *s == 'x') {
                    /* A multi-letter extension written without "_" right after the letters. */
                    char name[256];
                    size_t k = 0;
                    while (s[k] && k < sizeof name - 1) { name[k] = s[k]; k++; }
                    name[k] = 0;
                    j_str(name);
                    if (!strcmp(name, "ssaia")) *ssaia = 1;
                    if (!strcmp(name, "smaia")) *smaia = 1;
                    if (!strcmp(name, "sscofpmf")) *sscofpmf = 1;
                    break;
                }
                if (!isalpha((unsigned char)*s)) continue; /* version digits */
                if (*s == 'p' && s > tok && isdigit((unsigned char)s[-1])) continue;
                char one[2] = {*s, 0};
                j_str(one);
                if (*s == 'h') *h = 1;
                if (*s == 'v') *v = 1;
                if (*s == 'g') { /* g = imafd + zicsr + zifencei; only the letters matter here */ }
            }
            continue;
        }
        /* Strip a trailing version such as "2p0" (digits "p" digits); bare digits are part of names. */
        size_t len = strlen(tok), k = len;
        while (k > 0 && isdigit((unsigned char)tok[k - 1])) k--;
        if (k < len && k > 1 && tok[k - 1] == 'p' && isdigit((unsigned char)tok[k - 2])) {
            k--;
            while (k > 0 && isdigit((unsigned char)tok[k - 1])) k--;
            if (k > 0) tok[k] = 0;
        }
        if (!tok[0]) continue;
        j_str(tok);
        if (!strcmp(tok, "ssaia")) *ssaia = 1;
        if (!strcmp(tok, "smaia")) *smaia = 1;
        if (!strcmp(tok, "sscofpmf")) *sscofpmf = 1;
    }
    j_arr_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Kernel modules: loaded, built in, available on disk, or absent. */

static char g_release[256];
static char *g_modules_dep;     /* contents of modules.dep, or NULL */
static char *g_modules_builtin; /* contents of modules.builtin, or NULL */
static int g_modules_dir;       /* /lib/modules/RELEASE exists */

static void load_module_lists(void)
{
    char p[PATH_MAX];
    g_modules_dir = is_dir(rpath(p, sizeof p, "/lib/modules/%s", g_release));
    if (!g_modules_dir) g_modules_dir = is_dir(rpath(p, sizeof p, "/usr/lib/modules/%s", g_release));
    g_modules_dep = read_all(rpath(p, sizeof p, "/lib/modules/%s/modules.dep", g_release), 16u << 20, NULL);
    if (!g_modules_dep) g_modules_dep = read_all(rpath(p, sizeof p, "/usr/lib/modules/%s/modules.dep", g_release), 16u << 20, NULL);
    g_modules_builtin = read_all(rpath(p, sizeof p, "/lib/modules/%s/modules.builtin", g_release), 4u << 20, NULL);
    if (!g_modules_builtin)
        g_modules_builtin = read_all(rpath(p, sizeof p, "/usr/lib/modules/%s/modules.builtin", g_release), 4u << 20, NULL);
}

/* True when a modules.dep / modules.builtin list names module `mod` ("-" and "_" are equal). */
static int list_has_module(const char *list, const char *mod)
{
    if (!list) return 0;
    const char *line = list;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        size_t plen = colon ? (size_t)(colon - line) : len;
        /* basename of the path up to ".ko" */
        const char *b = line;
        for (size_t i = 0; i < plen; i++)
            if (line[i] == '/') b = line + i + 1;
        const char *ko = NULL;
        for (const char *q = b; q + 3 <= line + plen; q++)
            if (!strncmp(q, ".ko", 3)) { ko = q; break; }
        if (ko) {
            size_t blen = (size_t)(ko - b);
            if (blen == strlen(mod)) {
                int same = 1;
                for (size_t i = 0; i < blen && same; i++) {
                    char x = b[i] == '-' ? '_' : b[i], y = mod[i] == '-' ? '_' : mod[i];
                    same = x == y;
                }
                if (same) return 1;
            }
        }
        if (!end) break;
        line = end + 1;
    }
    return 0;
}

/* "loaded", "builtin", "available", "absent" or "unknown" (no module directory to look in). */
static const char *module_state(const char *mod)
{
    char p[PATH_MAX];
    if (exists(rpath(p, sizeof p, "/sys/module/%s/initstate", mod))) return "loaded";
    if (list_has_module(g_modules_builtin, mod)) return "builtin";
    if (is_dir(rpath(p, sizeof p, "/sys/module/%s", mod))) return "builtin";
    if (list_has_module(g_modules_dep, mod)) return "available";
    if (g_modules_dep || g_modules_builtin || g_modules_dir) return "absent";
    return "unknown";
}

static void kv_module(const char *mod)
{
    j_key(mod);
    j_str(module_state(mod));
}

/* ------------------------------------------------------------------------------------------ */
/* KVM */

static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

static void emit_kvm(int *kvm_openable)
{
    char p[PATH_MAX];
    rpath(p, sizeof p, "/dev/kvm");
    int present = exists(p);
    j_key("kvm");
    j_obj();
    kv_bool("present", present);
    *kvm_openable = 0;
    if (!present) {
        kv_bool("openable", 0);
        kv_str("error", "no /dev/kvm");
        j_key("api_version"); j_null();
    } else {
        int fd = open(p, O_RDWR | O_CLOEXEC);
        kv_bool("openable", fd >= 0);
        *kvm_openable = fd >= 0;
        if (fd < 0) {
            kv_str("error", strerror(errno));
            j_key("api_version"); j_null();
        } else {
            j_key("error"); j_null();
            int v = g_real_root ? kvm_ioctl(fd, RV_KVM_GET_API_VERSION, NULL) : -1;
            j_key("api_version");
            if (v >= 0) j_i64(v);
            else j_null();
            close(fd);
        }
    }
    j_obj_end();
}

/* Whether KVM can create a VFIO device: KVM_CREATE_VM, then KVM_CREATE_DEVICE in test mode. */
static void kvm_vfio_probe(int kvm_openable, const char **state, char *detail, size_t dn)
{
    char p[PATH_MAX];
    if (!g_real_root) {
        *state = "unknown";
        snprintf(detail, dn, "not probed: --root given, so no ioctl is made");
        return;
    }
    if (!kvm_openable) {
        *state = "unknown";
        snprintf(detail, dn, "not probed: /dev/kvm cannot be opened");
        return;
    }
    int kvm = open(rpath(p, sizeof p, "/dev/kvm"), O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        *state = "unknown";
        snprintf(detail, dn, "open /dev/kvm: %s", strerror(errno));
        return;
    }
    int vm = kvm_ioctl(kvm, RV_KVM_CREATE_VM, 0);
    if (vm < 0) {
        *state = "unknown";
        snprintf(detail, dn, "KVM_CREATE_VM: %s", strerror(errno));
        close(kvm);
        return;
    }
    struct rv_kvm_create_device cd = {RV_KVM_DEV_TYPE_VFIO, 0, RV_KVM_CREATE_DEVICE_TEST};
    int r = kvm_ioctl(vm, RV_KVM_CREATE_DEVICE, &cd);
    if (r == 0) {
        *state = "yes";
        snprintf(detail, dn, "KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO, test) succeeded");
    } else if (errno == ENODEV) {
        *state = "no";
        snprintf(detail, dn, "KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO, test): %s", strerror(errno));
    } else {
        *state = "unknown";
        snprintf(detail, dn, "KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO, test): %s", strerror(errno));
    }
    close(vm);
    close(kvm);
}

/* ------------------------------------------------------------------------------------------ */
/* PCI devices and IOMMU groups. */

/* "0x1af4" -> "1af4"; copies other text as is. */
static void hexid(const char *in, char *out, size_t n)
{
    if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) in += 2;
    size_t k = 0;
    for (; in[k] && k < n - 1; k++) out[k] = (char)tolower((unsigned char)in[k]);
    out[k] = 0;
}

static void emit_attr_hex(const char *dir, const char *attr)
{
    char p[PATH_MAX], v[128], h[128];
    snprintf(p, sizeof p, "%s/%s", dir, attr);
    j_key(attr);
    if (read_attr(p, v, sizeof v) == 0) {
        hexid(v, h, sizeof h);
        j_str(h);
    } else {
        j_null();
    }
}

/* One device object: name, driver, vendor, device, class (null where the file is missing). */
static void emit_device(const char *dir, const char *name, int with_group)
{
    char p[PATH_MAX], b[256];
    j_obj();
    kv_str("name", name);
    snprintf(p, sizeof p, "%s/driver", dir);
    j_key("driver");
    if (link_base(p, b, sizeof b) == 0) j_str(b);
    else j_null();
    emit_attr_hex(dir, "vendor");
    emit_attr_hex(dir, "device");
    emit_attr_hex(dir, "class");
    if (with_group) {
        snprintf(p, sizeof p, "%s/iommu_group", dir);
        j_key("iommu_group");
        if (link_base(p, b, sizeof b) == 0) j_str(b);
        else j_null();
    }
    j_obj_end();
}

static int cmp_numeric_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    char *ex, *ey;
    long nx = strtol(x, &ex, 10), ny = strtol(y, &ey, 10);
    if (!*ex && !*ey) return nx < ny ? -1 : nx > ny;
    return strcmp(x, y);
}

static void emit_iommu(void)
{
    char p[PATH_MAX], dp[PATH_MAX];
    j_key("iommu");
    j_obj();
    struct names units = list_dir(rpath(p, sizeof p, "/sys/class/iommu"));
    j_key("units");
    j_arr();
    for (size_t i = 0; i < units.n; i++) j_str(units.v[i]);
    j_arr_end();
    free_names(&units);

    struct names groups = list_dir(rpath(p, sizeof p, "/sys/kernel/iommu_groups"));
    if (groups.n) qsort(groups.v, groups.n, sizeof *groups.v, cmp_numeric_names);
    j_key("groups");
    j_arr();
    for (size_t i = 0; i < groups.n; i++) {
        j_obj();
        kv_str("id", groups.v[i]);
        rpath(p, sizeof p, "/sys/kernel/iommu_groups/%s", groups.v[i]);
        char type[64];
        snprintf(dp, sizeof dp, "%s/type", p);
        j_key("type");
        if (read_attr(dp, type, sizeof type) == 0) j_str(type);
        else j_null();
        /* An "msi" reserved region: the IOMMU maps an MSI doorbell in the group's domains. */
        snprintf(dp, sizeof dp, "%s/reserved_regions", p);
        j_key("msi_region");
        char *regions = read_all(dp, MAX_SMALL_FILE, NULL);
        if (regions) {
            int msi = 0;
            for (char *line = strtok(regions, "\n"); line; line = strtok(NULL, "\n")) {
                char *last = strrchr(line, ' ');
                if (last && strcmp(last + 1, "msi") == 0) msi = 1;
            }
            j_bool(msi);
            free(regions);
        } else {
            j_null();
        }
        snprintf(dp, sizeof dp, "%s/devices", p);
        struct names devs = list_dir(dp);
        j_key("devices");
        j_arr();
        for (size_t k = 0; k < devs.n; k++) {
            char d[PATH_MAX];
            snprintf(d, sizeof d, "%s/%s", dp, devs.v[k]);
            emit_device(d, devs.v[k], 0);
        }
        j_arr_end();
        free_names(&devs);
        j_obj_end();
    }
    j_arr_end();
    kv_bool("groups_truncated", groups.truncated);
    free_names(&groups);
    j_obj_end();

    struct names pci = list_dir(rpath(p, sizeof p, "/sys/bus/pci/devices"));
    j_key("pci");
    j_arr();
    for (size_t i = 0; i < pci.n; i++) {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%s/%s", p, pci.v[i]);
        emit_device(d, pci.v[i], 1);
    }
    j_arr_end();
    free_names(&pci);
}

/* ------------------------------------------------------------------------------------------ */
/* Interrupt controllers: IMSIC / APLIC / PLIC from the device tree and /proc/interrupts. */

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return 1;
    return 0;
}

/* Looks at the "compatible" strings of device-tree nodes up to two levels below base. */
static void dt_scan(const char *base, int depth, int *imsic, int *aplic, int *plic, int *found)
{
    struct names kids = list_dir(base);
    for (size_t i = 0; i < kids.n; i++) {
        char node[PATH_MAX], cp[PATH_MAX];
        snprintf(node, sizeof node, "%s/%s", base, kids.v[i]);
        if (!is_dir(node)) continue;
        snprintf(cp, sizeof cp, "%s/compatible", node);
        size_t len = 0;
        char *c = read_all(cp, MAX_SMALL_FILE, &len);
        if (c) {
            *found = 1;
            for (size_t k = 0; k < len; k++)
                if (!c[k]) c[k] = ' ';
            if (contains_ci(c, "imsics")) *imsic = 1;
            if (contains_ci(c, "riscv,aplic")) *aplic = 1;
            if (contains_ci(c, "riscv,plic") || contains_ci(c, "sifive,plic")) *plic = 1;
            free(c);
        }
        if (depth > 0) dt_scan(node, depth - 1, imsic, aplic, plic, found);
    }
    free_names(&kids);
}

static void emit_interrupts(void)
{
    char p[PATH_MAX];
    int imsic = 0, aplic = 0, plic = 0, dt = 0, proc = 0;
    int64_t msi_irqs = 0;
    rpath(p, sizeof p, "/sys/firmware/devicetree/base");
    if (is_dir(p)) dt_scan(p, 1, &imsic, &aplic, &plic, &dt);
    char *text = read_all(rpath(p, sizeof p, "/proc/interrupts"), MAX_FILE_BYTES, NULL);
    if (text) {
        proc = 1;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (contains_ci(line, "IMSIC")) imsic = 1;
            if (contains_ci(line, "APLIC")) aplic = 1;
            if (contains_ci(line, "PLIC") && !contains_ci(line, "APLIC")) plic = 1;
            if (contains_ci(line, "MSI")) msi_irqs++;
        }
        free(text);
    }
    j_key("interrupts");
    j_obj();
    kv_bool("imsic", imsic);
    kv_bool("aplic", aplic);
    kv_bool("plic", plic);
    j_key("msi_irqs");
    if (proc) j_i64(msi_irqs);
    else j_null();
    j_key("aia_mode");
    if (imsic && aplic) j_str("aplic-imsic");
    else if (imsic) j_str("imsic");
    else if (aplic) j_str("aplic");
    else if (plic) j_str("plic");
    else j_null();
    j_key("sources");
    j_arr();
    if (dt) j_str("devicetree");
    if (proc) j_str("proc-interrupts");
    j_arr_end();
    j_obj_end();
}

/* ------------------------------------------------------------------------------------------ */
/* VFIO and vDPA */

static void emit_vfio(int kvm_openable)
{
    char p[PATH_MAX];
    j_key("vfio");
    j_obj();
    kv_bool("container", exists(rpath(p, sizeof p, "/dev/vfio/vfio")));
    kv_bool("iommufd", exists(rpath(p, sizeof p, "/dev/iommu")));
    kv_bool("vfio_pci_driver", is_dir(rpath(p, sizeof p, "/sys/bus/pci/drivers/vfio-pci")));
    j_key("modules");
    j_obj();
    kv_module("vfio");
    kv_module("vfio_pci");
    kv_module("vfio_iommu_type1");
    kv_module("iommufd");
    j_obj_end();
    const char *state = "unknown";
    char detail[256];
    kvm_vfio_probe(kvm_openable, &state, detail, sizeof detail);
    kv_str("kvm_vfio_device", state);
    kv_str("kvm_vfio_detail", detail);
    /* Y or N once vfio_iommu_type1 is loaded: type1 attaches a group without MSI isolation only with Y. */
    char unsafe[16];
    j_key("unsafe_interrupts");
    if (read_attr(rpath(p, sizeof p, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"),
                  unsafe, sizeof unsafe) == 0)
        j_str(unsafe);
    else
        j_null();
    j_obj_end();
}

static void emit_name_list(const char *key, const char *dir, const char *prefix)
{
    struct names n = list_dir(dir);
    j_key(key);
    j_arr();
    for (size_t i = 0; i < n.n; i++)
        if (!prefix || !strncmp(n.v[i], prefix, strlen(prefix))) j_str(n.v[i]);
    j_arr_end();
    free_names(&n);
}

static void emit_vdpa(void)
{
    char p[PATH_MAX];
    j_key("vdpa");
    j_obj();
    kv_bool("bus", is_dir(rpath(p, sizeof p, "/sys/bus/vdpa")));
    emit_name_list("vhost_vdpa_devices", rpath(p, sizeof p, "/dev"), "vhost-vdpa-");
    emit_name_list("devices", rpath(p, sizeof p, "/sys/bus/vdpa/devices"), NULL);
    emit_name_list("drivers", rpath(p, sizeof p, "/sys/bus/vdpa/drivers"), NULL);
    /* Management devices are only listed over netlink; the simulators register /sys/devices/vdpasim_*. */
    emit_name_list("mgmtdevs", rpath(p, sizeof p, "/sys/devices"), "vdpasim_");
    j_key("modules");
    j_obj();
    kv_module("vdpa");
    kv_module("vhost_vdpa");
    kv_module("vdpa_sim");
    kv_module("vdpa_sim_blk");
    j_obj_end();
    j_obj_end();
}

/* ------------------------------------------------------------------------------------------ */
/* perf_event_open */

struct event_def {
    const char *name;
    uint32_t type;
    uint64_t config;
};

static const struct event_def EVENTS[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {"bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES},
    {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
    {"stalled-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    {"stalled-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
};

/* The events `facts` probes on the probe process itself. */
static const char *const FACT_EVENTS[] = {
    "cycles", "instructions", "cache-references", "cache-misses", "branch-instructions",
    "branch-misses", "task-clock", "page-faults", "context-switches", "cpu-migrations",
};

/*
 * Resolves an event name: a generic perf name ("cycles", "task-clock"), the same with libpfm4's
 * "perf::" prefix in any case ("perf::CYCLES", "perf::PAGE-FAULTS"), or a raw code "rHEX".
 */
static int resolve_event(const char *name, uint32_t *type, uint64_t *config)
{
    char low[128];
    const char *s = name;
    if (!strncasecmp(s, "perf::", 6)) s += 6;
    size_t k = 0;
    for (; s[k] && k < sizeof low - 1; k++) low[k] = (char)tolower((unsigned char)s[k]);
    low[k] = 0;
    for (size_t i = 0; i < sizeof EVENTS / sizeof EVENTS[0]; i++) {
        if (!strcmp(low, EVENTS[i].name)) {
            *type = EVENTS[i].type;
            *config = EVENTS[i].config;
            return 0;
        }
    }
    if (low[0] == 'r' && low[1]) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(low + 1, &end, 16);
        if (!*end && !errno) {
            *type = PERF_TYPE_RAW;
            *config = v;
            return 0;
        }
    }
    return -1;
}

/* Set in `perf --exec` mode: counters follow the program into every child it starts. */
static int g_inherit;

static int perf_open(uint32_t type, uint64_t config, pid_t tid, int exclude_kernel)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = type;
    a.config = config;
    a.disabled = 1;
    a.inherit = g_inherit ? 1 : 0;
    /* No mode filter unless needed: RISC-V's SBI PMU can filter modes only with Sscofpmf and
     * refuses (EINVAL) any exclude_* bit without it. */
    a.exclude_kernel = exclude_kernel ? 1 : 0;
    a.exclude_hv = exclude_kernel ? 1 : 0;
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Opens an event on `tid`; on EACCES/EPERM retries counting user space only. */
static int perf_open_best(uint32_t type, uint64_t config, pid_t tid, int *user_only)
{
    int fd = perf_open(type, config, tid, 0);
    *user_only = 0;
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
        fd = perf_open(type, config, tid, 1);
        if (fd >= 0) *user_only = 1;
    }
    return fd;
}

struct reading {
    uint64_t value, enabled, running;
};

static int perf_read(int fd, struct reading *r)
{
    uint64_t v[3];
    ssize_t n;
    do n = read(fd, v, sizeof v);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof v) {
        if (n >= 0) errno = EIO;
        return -1;
    }
    r->value = v[0];
    r->enabled = v[1];
    r->running = v[2];
    return 0;
}

static volatile uint64_t g_sink;

static void emit_perf_facts(void)
{
    j_key("perf");
    j_obj();
    char p[PATH_MAX], par[32];
    j_key("paranoid");
    if (read_attr(rpath(p, sizeof p, "/proc/sys/kernel/perf_event_paranoid"), par, sizeof par) == 0)
        j_i64(strtol(par, NULL, 10));
    else j_null();
    if (!g_real_root) {
        kv_bool("probed", 0);
        kv_str("reason", "not probed: --root given, so no event is opened");
        j_key("events");
        j_arr();
        j_arr_end();
        j_obj_end();
        return;
    }
    kv_bool("probed", 1);
    j_key("reason"); j_null();
    j_key("events");
    j_arr();
    for (size_t i = 0; i < sizeof FACT_EVENTS / sizeof FACT_EVENTS[0]; i++) {
        uint32_t type = 0;
        uint64_t config = 0;
        resolve_event(FACT_EVENTS[i], &type, &config);
        int user_only = 0;
        int fd = perf_open_best(type, config, 0, &user_only);
        int e = errno;
        j_obj();
        kv_str("name", FACT_EVENTS[i]);
        kv_str("kind", type == PERF_TYPE_HARDWARE ? "hardware" : "software");
        kv_bool("ok", fd >= 0);
        if (fd >= 0) {
            /* Count a short loop, so that "ok" means the counter also reads. */
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
            for (int k = 0; k < 200000; k++) g_sink += (uint64_t)k;
            ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
            struct reading r;
            int rr = perf_read(fd, &r);
            kv_bool("user_only", user_only);
            j_key("errno"); j_null();
            j_key("error");
            if (rr == 0) j_null();
            else j_str(strerror(errno));
            j_key("value");
            if (rr == 0) j_u64(r.value);
            else j_null();
            close(fd);
        } else {
            kv_bool("user_only", 0);
            kv_i64("errno", e);
            kv_str("error", strerror(e));
            j_key("value"); j_null();
        }
        j_obj_end();
    }
    j_arr_end();
    j_obj_end();
}

/* ------------------------------------------------------------------------------------------ */
/* KVM statistics in debugfs */

static int debugfs_mounted(void)
{
    char *m = read_all("/proc/self/mounts", MAX_FILE_BYTES, NULL);
    if (!m) return 0;
    int found = strstr(m, " /sys/kernel/debug debugfs ") != NULL;
    free(m);
    return found;
}

/* Makes /sys/kernel/debug/kvm visible if possible; returns 1 when this call mounted debugfs. */
static int ensure_debugfs(char *err, size_t en)
{
    char p[PATH_MAX];
    err[0] = 0;
    if (is_dir(rpath(p, sizeof p, "/sys/kernel/debug/kvm"))) return 0;
    if (!g_real_root || g_no_mount) return 0;
    if (debugfs_mounted()) return 0;
    if (geteuid() != 0) {
        snprintf(err, en, "debugfs is not mounted and the probe is not root");
        return 0;
    }
    if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) != 0) {
        snprintf(err, en, "mount debugfs on /sys/kernel/debug: %s", strerror(errno));
        return 0;
    }
    return 1;
}

static void emit_kvm_stats_facts(void)
{
    char p[PATH_MAX], err[256];
    int mounted = ensure_debugfs(err, sizeof err);
    rpath(p, sizeof p, "/sys/kernel/debug/kvm");
    int avail = is_dir(p);
    j_key("kvm_stats");
    j_obj();
    kv_str("path", "/sys/kernel/debug/kvm");
    kv_bool("available", avail);
    kv_bool("mounted_by_probe", mounted);
    j_key("error");
    if (avail) j_null();
    else if (err[0]) j_str(err);
    else if (!g_real_root) j_str("no sys/kernel/debug/kvm under the root");
    else if (g_no_mount && !debugfs_mounted()) j_str("debugfs is not mounted (--no-mount given)");
    else j_str("no /sys/kernel/debug/kvm: the kernel has no KVM module loaded or no debugfs");
    j_obj_end();
}

/* Parses a debugfs value: decimal digits and an optional trailing newline. */
static int parse_u64_file(const char *path, uint64_t *out, char *why, size_t wn)
{
    char *s = read_all(path, 256, NULL);
    if (!s) {
        snprintf(why, wn, "%s", strerror(errno));
        return -1;
    }
    char *b = s;
    while (*b == ' ') b++;
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*b)) {
        snprintf(why, wn, "not a decimal counter");
        free(s);
        return -1;
    }
    unsigned long long v = strtoull(b, &end, 10);
    while (*end == '\n' || *end == ' ') end++;
    if (errno || *end) {
        snprintf(why, wn, "not a single decimal counter");
        free(s);
        return -1;
    }
    *out = v;
    free(s);
    return 0;
}

/* Emits {"name": value, ...} for every regular file in dir; unreadable ones go to `bad`. */
struct bad_list {
    char name[128][160];
    char why[128][96];
    int n;
};

static void emit_counter_dir(const char *dir, const char *prefix, struct bad_list *bad)
{
    struct names n = list_dir(dir);
    j_obj();
    for (size_t i = 0; i < n.n; i++) {
        char fp[PATH_MAX];
        struct stat st;
        snprintf(fp, sizeof fp, "%s/%s", dir, n.v[i]);
        if (stat(fp, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        uint64_t v;
        char why[96];
        if (parse_u64_file(fp, &v, why, sizeof why) == 0) {
            kv_u64(n.v[i], v);
        } else if (bad->n < 128) {
            snprintf(bad->name[bad->n], sizeof bad->name[0], "%s%s", prefix, n.v[i]);
            snprintf(bad->why[bad->n], sizeof bad->why[0], "%s", why);
            bad->n++;
        }
    }
    j_obj_end();
    free_names(&n);
}

static int cmd_kvm_stats(void)
{
    char p[PATH_MAX], err[256];
    int mounted = ensure_debugfs(err, sizeof err);
    rpath(p, sizeof p, "/sys/kernel/debug/kvm");
    j_obj();
    kv_i64("schema", SCHEMA);
    kv_str("path", "/sys/kernel/debug/kvm");
    kv_bool("mounted_by_probe", mounted);
    if (!is_dir(p)) {
        kv_bool("available", 0);
        if (!err[0]) snprintf(err, sizeof err, "no /sys/kernel/debug/kvm: no KVM module loaded, or debugfs not mounted");
        kv_str("error", err);
        j_key("global"); j_obj(); j_obj_end();
        j_key("vms"); j_arr(); j_arr_end();
        j_key("unreadable"); j_obj(); j_obj_end();
        j_obj_end();
        j_flush();
        return 0;
    }
    static struct bad_list bad;
    kv_bool("available", 1);
    j_key("error"); j_null();
    j_key("global");
    emit_counter_dir(p, "", &bad);
    j_key("vms");
    j_arr();
    struct names n = list_dir(p);
    for (size_t i = 0; i < n.n; i++) {
        char dp[PATH_MAX];
        snprintf(dp, sizeof dp, "%s/%s", p, n.v[i]);
        long pid, fd;
        char extra;
        if (!is_dir(dp) || sscanf(n.v[i], "%ld-%ld%c", &pid, &fd, &extra) != 2) continue;
        j_obj();
        kv_i64("pid", pid);
        kv_i64("fd", fd);
        kv_str("dir", n.v[i]);
        j_key("stats");
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%s/", n.v[i]);
        emit_counter_dir(dp, prefix, &bad);
        j_obj_end();
    }
    free_names(&n);
    j_arr_end();
    j_key("unreadable");
    j_obj();
    for (int i = 0; i < bad.n; i++) kv_str(bad.name[i], bad.why[i]);
    j_obj_end();
    j_obj_end();
    j_flush();
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* facts */

static int64_t mem_total_bytes(void)
{
    char p[PATH_MAX];
    char *m = read_all(rpath(p, sizeof p, "/proc/meminfo"), MAX_FILE_BYTES, NULL);
    if (!m) return -1;
    int64_t kb = -1;
    char *l = strstr(m, "MemTotal:");
    if (l) kb = strtoll(l + 9, NULL, 10);
    free(m);
    return kb < 0 ? -1 : kb * 1024;
}

/* Counts CPUs in a list such as "0-3,6". */
static int64_t count_cpu_list(const char *s)
{
    int64_t n = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s) break;
        long b = a;
        if (*end == '-') b = strtol(end + 1, &end, 10);
        if (b >= a) n += b - a + 1;
        s = end;
        if (*s == ',') s++;
        else break;
    }
    return n;
}

static int cmd_facts(void)
{
    char arch[64], p[PATH_MAX], online[256];
    host_identity(arch, sizeof arch, g_release, sizeof g_release);
    load_module_lists();

    j_obj();
    kv_i64("schema", SCHEMA);
    kv_str("probe_version", PROBE_VERSION);
    kv_str("root", g_real_root ? "/" : g_root);
    kv_str("arch", arch);
    j_key("kernel");
    j_str(g_release[0] ? g_release : NULL);
    j_key("cpu_count");
    if (read_attr(rpath(p, sizeof p, "/sys/devices/system/cpu/online"), online, sizeof online) == 0)
        j_i64(count_cpu_list(online));
    else j_null();
    int64_t mem = mem_total_bytes();
    j_key("memory_bytes");
    if (mem >= 0) j_i64(mem);
    else j_null();

    int kvm_openable = 0;
    emit_kvm(&kvm_openable);
    j_key("kvm_module");
    j_str(module_state("kvm"));

    struct isa_info info;
    read_cpuinfo(&info);
    j_key("cpu");
    j_obj();
    j_key("isa");
    j_str(info.isa[0] ? info.isa : NULL);
    j_key("hart_isa");
    j_str(info.hart_isa[0] ? info.hart_isa : NULL);
    j_key("mmu");
    j_str(info.mmu[0] ? info.mmu : NULL);
    kv_i64("harts", info.harts);
    int h = 0, v = 0, ssaia = 0, smaia = 0, sscofpmf = 0;
    j_key("extensions");
    emit_extensions(info.isa[0] ? info.isa : info.hart_isa, &h, &v, &ssaia, &smaia, &sscofpmf);
    kv_bool("h", h);
    kv_bool("v", v);
    kv_bool("ssaia", ssaia);
    kv_bool("smaia", smaia);
    kv_bool("sscofpmf", sscofpmf);
    j_obj_end();

    emit_iommu();
    emit_vfio(kvm_openable);
    emit_interrupts();
    emit_vdpa();
    emit_perf_facts();
    emit_kvm_stats_facts();
    j_obj_end();
    j_flush();
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* perf --pid PID */

struct counter {
    char name[128];
    uint32_t type;
    uint64_t config;
    int ok;            /* opened on at least one thread */
    int first_errno;   /* errno of the first failed open, when none opened */
    int user_only;
    int threads;       /* threads counted */
    int failed;        /* threads where the open failed */
    struct reading sum;
    double scaled;
};

struct thread_fds {
    pid_t tid;
    int late;
    int fd[MAX_EVENTS];
};

static struct counter g_ctr[MAX_EVENTS];
static int g_nctr;
static struct thread_fds *g_thr;
static int g_nthr;
static int g_nfds;
static int g_fd_limit_hit;

static int known_tid(pid_t tid)
{
    for (int i = 0; i < g_nthr; i++)
        if (g_thr[i].tid == tid) return 1;
    return 0;
}

/* Opens and enables every event on each thread of pid not seen yet. */
static void attach_threads(pid_t pid, int all_threads, int late)
{
    char p[64];
    struct names tasks = {0};
    if (all_threads) {
        snprintf(p, sizeof p, "/proc/%d/task", (int)pid);
        tasks = list_dir(p);
    } else {
        tasks.v = malloc(sizeof *tasks.v);
        if (!tasks.v) die_oom();
        char b[32];
        snprintf(b, sizeof b, "%d", (int)pid);
        tasks.v[0] = strdup(b);
        tasks.n = 1;
    }
    for (size_t i = 0; i < tasks.n; i++) {
        pid_t tid = (pid_t)strtol(tasks.v[i], NULL, 10);
        if (tid <= 0 || known_tid(tid)) continue;
        if (g_nthr == MAX_THREADS || g_nfds + g_nctr > MAX_FDS) {
            g_fd_limit_hit = 1;
            break;
        }
        struct thread_fds *t = &g_thr[g_nthr];
        t->tid = tid;
        t->late = late;
        for (int e = 0; e < g_nctr; e++) {
            int user_only = 0;
            int fd = perf_open_best(g_ctr[e].type, g_ctr[e].config, tid, &user_only);
            t->fd[e] = fd;
            if (fd < 0) {
                if (errno == ESRCH) continue; /* the thread ended meanwhile */
                g_ctr[e].failed++;
                if (!g_ctr[e].ok && !g_ctr[e].first_errno) g_ctr[e].first_errno = errno;
                continue;
            }
            g_nfds++;
            g_ctr[e].ok = 1;
            if (user_only) g_ctr[e].user_only = 1;
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        }
        g_nthr++; /* kept even when nothing opened, so a failing thread is tried only once */
    }
    free_names(&tasks);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void parse_events(const char *events)
{
    char list[4096];
    snprintf(list, sizeof list, "%s", events);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (g_nctr == MAX_EVENTS) fail(2, "perf: at most %d events", MAX_EVENTS);
        struct counter *c = &g_ctr[g_nctr];
        snprintf(c->name, sizeof c->name, "%s", tok);
        if (resolve_event(tok, &c->type, &c->config) != 0)
            fail(2, "perf: unknown event \"%s\"; use a generic perf name (cycles, task-clock, ...) or rHEX", tok);
        g_nctr++;
    }
}

static void report_counters(pid_t pid, int all_threads, double elapsed);

/* `perf --exec`: runs PROGRAM with every event counted on it and, through inheritance, on every
 * process and thread it starts. The program's standard output and error pass through untouched; the
 * report is one line on standard error, "rvbench-probe-report {json}". Exits with the program's
 * status (128 + signal when a signal ended it). */
static int perf_exec(const char *events, char **program)
{
    parse_events(events);
    g_thr = calloc(MAX_THREADS, sizeof *g_thr);
    if (!g_thr) die_oom();
    g_inherit = 1;
    int gate[2];
    if (pipe(gate) != 0) fail(1, "perf: pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) fail(1, "perf: fork: %s", strerror(errno));
    if (child == 0) {
        /* Waits until the counters are open, so the whole program is counted. */
        close(gate[1]);
        char b;
        while (read(gate[0], &b, 1) < 0 && errno == EINTR) {}
        close(gate[0]);
        execvp(program[0], program);
        fprintf(stderr, "rvbench-probe: cannot run %s: %s\n", program[0], strerror(errno));
        _exit(127);
    }
    close(gate[0]);
    double t0 = now_s();
    attach_threads(child, 0, 0);
    close(gate[1]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    double elapsed = now_s() - t0;
    g_json_fd = 2;
    fputs("rvbench-probe-report ", stderr);
    fflush(stderr);
    report_counters(child, 0, elapsed);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

static int cmd_perf(int argc, char **argv)
{
    pid_t pid = 0;
    int all_threads = 0;
    const char *events = NULL;
    double seconds = -1;
    int until_eof = 0;
    int exec_mode = 0;
    int i = 0;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--pid") && i + 1 < argc) pid = (pid_t)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads")) all_threads = 1;
        else if (!strcmp(argv[i], "--exec")) exec_mode = 1;
        else if (!strcmp(argv[i], "--events") && i + 1 < argc) events = argv[++i];
        else if (!strcmp(argv[i], "--")) { i++; break; }
        else fail(2, "perf: unknown argument \"%s\"; usage: perf --pid PID [--threads] --events LIST -- SECONDS|until-stdin-eof, "
                  "or perf --exec --events LIST -- PROGRAM [ARG...]", argv[i]);
    }
    if (!events || !*events) fail(2, "perf: --events LIST is required, e.g. --events cycles,task-clock");
    if (exec_mode) {
        if (pid > 0 || all_threads) fail(2, "perf: --exec counts the program it starts; drop --pid and --threads");
        if (i >= argc) fail(2, "perf: give the program to run after --");
        return perf_exec(events, argv + i);
    }
    if (pid <= 0) fail(2, "perf: --pid PID is required");
    if (i != argc - 1) fail(2, "perf: give the duration after --: SECONDS or until-stdin-eof");
    if (!strcmp(argv[i], "until-stdin-eof")) until_eof = 1;
    else {
        char *end;
        seconds = strtod(argv[i], &end);
        if (*end || seconds < 0 || seconds > 86400)
            fail(2, "perf: \"%s\" is neither SECONDS (0 to 86400) nor until-stdin-eof", argv[i]);
    }
    char p[64];
    snprintf(p, sizeof p, "/proc/%d", (int)pid);
    if (!is_dir(p)) fail(1, "perf: no process %d", (int)pid);

    parse_events(events);

    /* Raise the descriptor limit to what the hard limit allows. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    g_thr = calloc(MAX_THREADS, sizeof *g_thr);
    if (!g_thr) die_oom();
    signal(SIGPIPE, SIG_IGN);

    double t0 = now_s();
    attach_threads(pid, all_threads, 0);
    if (until_eof) {
        /* Tells a controller that counting has begun (stdout carries only the final JSON). */
        fputs("rvbench-probe: counting\n", stderr);
        fflush(stderr);
    }
    /* Wait, looking for new threads every 200 ms; they are counted from when they are seen. */
    for (;;) {
        int timeout_ms = 200;
        if (!until_eof) {
            double left = seconds - (now_s() - t0);
            if (left <= 0) break;
            if (left * 1000 < timeout_ms) timeout_ms = (int)(left * 1000) + 1;
            usleep((useconds_t)timeout_ms * 1000);
        } else {
            struct pollfd pf = {0, POLLIN, 0};
            int r = poll(&pf, 1, timeout_ms);
            if (r > 0) {
                char b[512];
                ssize_t n = read(0, b, sizeof b);
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
            } else if (r < 0 && errno != EINTR) {
                break;
            }
        }
        if (all_threads) attach_threads(pid, 1, 1);
    }
    double elapsed = now_s() - t0;
    report_counters(pid, all_threads, elapsed);
    return 0;
}

/* Stops and reads every counter, sums it over the threads, and prints the JSON report. */
static void report_counters(pid_t pid, int all_threads, double elapsed)
{
    int late = 0;
    for (int t = 0; t < g_nthr; t++) {
        if (g_thr[t].late) late++;
        for (int e = 0; e < g_nctr; e++) {
            int fd = g_thr[t].fd[e];
            if (fd < 0) continue;
            ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
            struct reading r;
            if (perf_read(fd, &r) == 0) {
                struct counter *c = &g_ctr[e];
                c->threads++;
                c->sum.value += r.value;
                c->sum.enabled += r.enabled;
                c->sum.running += r.running;
                if (r.running > 0 && r.running < r.enabled)
                    c->scaled += (double)r.value * (double)r.enabled / (double)r.running;
                else if (r.running > 0)
                    c->scaled += (double)r.value;
            }
            close(fd);
        }
    }

    j_obj();
    kv_i64("schema", SCHEMA);
    kv_i64("pid", pid);
    kv_bool("all_threads", all_threads);
    kv_i64("threads", g_nthr);
    kv_i64("threads_late", late);
    kv_bool("truncated", g_fd_limit_hit);
    j_key("seconds");
    j_double(elapsed);
    j_key("events");
    j_arr();
    for (int e = 0; e < g_nctr; e++) {
        struct counter *c = &g_ctr[e];
        j_obj();
        kv_str("name", c->name);
        kv_bool("ok", c->ok && c->threads > 0);
        if (c->ok && c->threads > 0) {
            kv_u64("value", c->sum.value);
            kv_u64("time_enabled", c->sum.enabled);
            kv_u64("time_running", c->sum.running);
            j_key("scaled");
            j_double(c->scaled);
            kv_i64("threads", c->threads);
            kv_i64("failed_threads", c->failed);
            kv_bool("user_only", c->user_only);
        } else {
            int e2 = c->first_errno ? c->first_errno : ESRCH;
            kv_i64("errno", e2);
            kv_str("error", strerror(e2));
        }
        j_obj_end();
    }
    j_arr_end();
    j_obj_end();
    j_flush();
}

/* ------------------------------------------------------------------------------------------ */

static void usage(void)
{
    fail(2, "usage: rvbench-probe [--root DIR] [--no-mount] facts|kvm-stats|version, "
            "or rvbench-probe perf --pid PID [--threads] --events LIST -- SECONDS|until-stdin-eof, "
            "or rvbench-probe perf --exec --events LIST -- PROGRAM [ARG...]");
}

int main(int argc, char **argv)
{
    const char *root = getenv("RVBENCH_SYSFS_ROOT");
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--root") && i + 1 < argc) root = argv[++i];
        else if (!strcmp(argv[i], "--no-mount")) g_no_mount = 1;
        else break;
    }
    if (root && *root && strcmp(root, "/") != 0) {
        size_t len = strlen(root);
        while (len > 1 && root[len - 1] == '/') len--;
        if (len >= sizeof g_root) fail(2, "--root path is too long");
        memcpy(g_root, root, len);
        g_root[len] = 0;
        g_real_root = 0;
        if (!is_dir(g_root)) fail(2, "--root %s is not a directory", g_root);
    }
    if (i >= argc) usage();
    const char *cmd = argv[i];
    if (!strcmp(cmd, "facts") && i + 1 == argc) return cmd_facts();
    if (!strcmp(cmd, "kvm-stats") && i + 1 == argc) return cmd_kvm_stats();
    if (!strcmp(cmd, "perf")) return cmd_perf(argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "version") && i + 1 == argc) {
        j_obj();
        kv_i64("schema", SCHEMA);
        kv_str("probe_version", PROBE_VERSION);
        j_obj_end();
        j_flush();
        return 0;
    }
    usage();
    return 2;
}
