/* Internals shared by the mem readers: the context layout, the file-access
 * seam (mem_sys.c) and the pure parsers (parse_*.c).
 *
 * The parsers take a buffer and a length and never allocate, print or read
 * past len; the readers fetch file content through the seam, which prefixes
 * the context's root, so the same code reads the live system and the
 * fixture trees under tests/fixtures/. */
#ifndef OOMKIT_MEM_INTERNAL_H
#define OOMKIT_MEM_INTERNAL_H

#include "oomkit/mem.h"

#include <dirent.h>
#include <stdio.h>

struct oomkit_mem_ctx {
    char root[OOMKIT_MEM_PATH_MAX]; /* "" for the live system, else no trailing '/' */
    size_t root_len;
    char *buf;          /* reusable read buffer */
    size_t buf_cap;
    char last_path[OOMKIT_MEM_PATH_MAX];
    char read_path[OOMKIT_MEM_PATH_MAX]; /* the file oomkit__mem_read last read whole */
    uint64_t page_size_bytes;
};

/* ---- seam: mem_sys.c ---- */

/* Test hook: when set, called with every target-system path before it is
 * opened; a negative return fails the open with that code. */
extern int (*oomkit__mem_sys_fault)(const char *path);

/* Builds root + path into out (size OOMKIT_MEM_PATH_MAX). */
int oomkit__mem_path(const oomkit_mem_ctx *ctx, const char *path, char *out);

/* Opens a target-system path read-only; returns an fd or a negative errno,
 * recording the path in ctx->last_path on failure. */
int oomkit__mem_open(oomkit_mem_ctx *ctx, const char *path);

/* Records path in ctx->last_path: a file read but not understood. Returns
 * rc (negative). */
int oomkit__mem_failed(oomkit_mem_ctx *ctx, const char *path, int rc);

/* rc of parsing the file oomkit__mem_read just read into ctx->buf: a
 * failure (rc < 0) names that file in ctx->last_path. Returns rc. */
int oomkit__mem_parsed(oomkit_mem_ctx *ctx, int rc);

/* Reads the whole file at path into ctx->buf (growing it), NUL-terminates
 * it and sets *len. Returns 0 or a negative errno (path recorded). */
int oomkit__mem_read(oomkit_mem_ctx *ctx, const char *path, size_t *len);

/* read(2) that retries EINTR; returns bytes or a negative errno. */
long oomkit__mem_read_fd(int fd, char *buf, size_t cap);

/* Opens a target-system directory; NULL with *err set on failure. */
DIR *oomkit__mem_opendir(oomkit_mem_ctx *ctx, const char *path, int *err);

/* Grows ctx->buf to at least cap bytes. */
int oomkit__mem_reserve(oomkit_mem_ctx *ctx, size_t cap);

/* Populates the whole pages inside [p, p+len) in one call (mem_sys.c). */
void oomkit__mem_prefault(void *p, size_t len);

/* For /proc/PID files: turns -ENOENT into -ESRCH when /proc/PID itself is
 * gone, so a vanished process and a missing file stay distinct. */
int oomkit__mem_proc_err(oomkit_mem_ctx *ctx, pid_t pid, int err);

/* 0 if pid has exited (gone, zombie or dead), else 1 (proc.c). */
int oomkit__mem_proc_alive(oomkit_mem_ctx *ctx, pid_t pid);
/* 0 if pid is gone or has no address space any more (statm all zeros). */
int oomkit__mem_has_mm(oomkit_mem_ctx *ctx, pid_t pid);

/* ---- parsers: parse_num.c ---- */

/* Parses an unsigned decimal at s[*i..len), skipping leading blanks;
 * saturates at UINT64_MAX - 2 so it never collides with the markers.
 * Returns 0, or -EINVAL if there is no digit. */
int oomkit__parse_u64(const char *s, size_t len, size_t *i, uint64_t *out);
int oomkit__parse_i64(const char *s, size_t len, size_t *i, int64_t *out);
int oomkit__parse_hex(const char *s, size_t len, size_t *i, uint64_t *out);
/* A limit: "max" -> NO_LIMIT; >= OOMKIT_MEM_HUGE_LIMIT_BYTES -> NO_LIMIT. */
int oomkit__parse_limit(const char *s, size_t len, uint64_t *out);
/* A single number file (memory.current): trailing newline allowed. */
int oomkit__parse_single_u64(const char *s, size_t len, uint64_t *out);
/* Saturating multiply for unit conversion (never yields the markers). */
uint64_t oomkit__mul_sat(uint64_t a, uint64_t b);

/* A key and its field offset for table-driven key/value parsing. */
struct oomkit__kv_key {
    const char *name;
    unsigned char name_len;
    unsigned char kind; /* KV_KB (x1024), KV_BYTES, KV_COUNT */
    unsigned short offset;
};
enum { OOMKIT__KV_KB = 0, OOMKIT__KV_BYTES = 1, OOMKIT__KV_COUNT = 2 };
#define OOMKIT__KV(str, kind, type, field) \
    { str, (unsigned char)(sizeof(str) - 1), kind, (unsigned short)offsetof(type, field) }

/* Looks up name in keys (n entries); NULL if unknown. */
const struct oomkit__kv_key *oomkit__kv_find(const struct oomkit__kv_key *keys, size_t n,
                                              const char *name, size_t name_len);

/* Parses "Key: value [kB]" (sep ':') or "key value" (sep ' ') lines into
 * the uint64_t fields of out described by keys. Unknown keys and
 * malformed values are skipped. */
void oomkit__parse_kv(const char *s, size_t len, char sep,
                      const struct oomkit__kv_key *keys, size_t n, void *out);

/* ---- parse_proc.c ---- */
int oomkit__parse_status(const char *s, size_t len, oomkit_mem_status *out);
int oomkit__parse_statm(const char *s, size_t len, uint64_t page_size,
                        oomkit_mem_statm *out);
int oomkit__parse_pstat(const char *s, size_t len, uint64_t page_size,
                        oomkit_mem_pstat *out);
int oomkit__parse_meminfo(const char *s, size_t len, oomkit_mem_meminfo *out);
int oomkit__parse_psi(const char *s, size_t len, oomkit_mem_psi *out);
/* /proc/PID/task/TID/syscall: -ENODATA for "running" or no sp. */
int oomkit__parse_syscall_sp(const char *s, size_t len, uint64_t *sp);

/* ---- parse_smaps.c ---- */
void oomkit__smaps_fields_clear(oomkit_mem_smaps_fields *f);
/* The smaps key name[0..len), or NULL if unknown. *cursor is the index the
 * caller expects next (start at 0 after each header); it is tried first
 * and advanced past the match. */
const struct oomkit__kv_key *oomkit__smaps_key(const char *name, size_t len, unsigned *cursor);
/* One smaps key line ("Rss:   4 kB") into f; returns 1 if the line was a
 * key line (known or not), 0 if it is not "Key:" shaped. */
int oomkit__parse_smaps_key(const char *line, size_t len, oomkit_mem_smaps_fields *f);
/* A maps header line: "start-end perms offset maj:min inode [path]". The
 * path is returned as a slice of line. Returns 0 or -EINVAL. */
int oomkit__parse_maps_header(const char *line, size_t len, oomkit_mem_mapping *m,
                              oomkit_str *path);
/* smaps_rollup content (the header line and the key lines). */
int oomkit__parse_smaps_rollup(const char *s, size_t len, oomkit_mem_smaps_fields *out);

/* Streaming maps/smaps parser, fed whole lines in order. */
struct oomkit__maps_builder;
int oomkit__maps_builder_line(struct oomkit__maps_builder *b, const char *line, size_t len);
/* The i-th mapping of maps, mutable (for classify.c); i < count. */
oomkit_mem_mapping *oomkit__maps_at(oomkit_mem_maps *maps, size_t i);
/* Parses a whole in-memory maps/smaps text into a new maps object (tests
 * and fuzzing); the caller frees it with oomkit_mem_maps_free. */
int oomkit__maps_parse_buffer(const char *s, size_t len, oomkit_mem_maps **out);

/* ---- parse_cgroup.c ---- */
/* Clears every field of s to absent and sets version. */
void oomkit__cgroup_stats_clear(oomkit_mem_cgroup_stats *s, int version);
void oomkit__parse_cgroup_stat(const char *s, size_t len, int version,
                               oomkit_mem_cgroup_stats *out);
void oomkit__parse_cgroup_events(const char *s, size_t len, oomkit_mem_cgroup_stats *out);
void oomkit__parse_oom_control(const char *s, size_t len, oomkit_mem_cgroup_stats *out);
/* /proc/PID/cgroup: finds the v1 line whose controller list has "memory"
 * (v1_path) and the "0::" line (v2_path); each NUL-terminated, "" if absent.
 * Buffers are OOMKIT_MEM_PATH_MAX bytes. */
int oomkit__parse_proc_cgroup(const char *s, size_t len, char *v1_path, char *v2_path);
/* 1 if the cgroup.controllers text lists name, else 0. */
int oomkit__parse_controllers_has(const char *s, size_t len, const char *name);
/* /proc/self/mountinfo into a layout (v2_has_memory left 0). */
int oomkit__parse_mountinfo(const char *s, size_t len, oomkit_mem_cgroup_layout *out);

#endif
