/* Turning the stack table into a symbolised pprof profile.
 *
 * Runs on the dump thread (or the exiting thread) with the recursion guard
 * held, so libdw's own allocations are not profiled. Steps:
 *   1. snapshot the stack table: every stack with a nonzero value becomes a
 *      sample (values are read with relaxed atomics; a dump taken while
 *      other threads allocate is a consistent-enough snapshot per stack);
 *   2. report the process's modules to libdw (dwfl_linux_proc_report reads
 *      /proc/self/maps now, so libraries dlopen'ed after start-up are
 *      included) and make one pprof mapping per module, with its build ID;
 *      the main executable is mapping 1, as pprof requires;
 *   3. one location per distinct return address, symbolised at address - 1
 *      (the call instruction, not the next line), with inlined frames from
 *      DWARF scopes when the module has debug info, else the ELF symbol;
 *      C++ names are demangled when libstdc++ is in the process;
 *   4. encode, gzip, write to a temporary file and rename.
 * Symbols of a library dlclose'd before the dump are lost: its frames keep
 * their addresses but get no mapping. */
#include "prof/prof_internal.h"

#include "core/alloc.h"
#include "core/hash.h"
#include "pprof/pprof.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const type_names[PROF_NVALUES][2] = {
    { "alloc_objects", "count" },      { "alloc_space", "bytes" },
    { "inuse_objects", "count" },      { "inuse_space", "bytes" },
    { "mmap_alloc_objects", "count" }, { "mmap_alloc_space", "bytes" },
    { "mmap_inuse_objects", "count" }, { "mmap_inuse_space", "bytes" },
};

struct dump {
    struct oomkit__pprof_builder b;
    Dwfl *dwfl;
    char *(*demangle)(const char *, char *, size_t *, int *);
    /* address -> location id, open addressing */
    uintptr_t *addr_keys;
    uint64_t *addr_ids;
    size_t addr_cap;
    size_t cap_locations, cap_functions, cap_mappings;
    /* function (name, file) -> id via a string-key index */
    uint64_t *fn_keys; /* name_idx << 32 | file_idx, 0 = empty (name 0 is "") */
    uint64_t *fn_ids;
    size_t fn_cap;
    Dwfl_Module **modules; /* mapping i + 1 */
    bool *modules_full;    /* symbolise with DWARF lines and inlines */
    size_t n_modules;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *p = oomkit__realloc(*arr, nc * elem);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static int module_cb(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr start,
                     void *arg)
{
    (void)userdata;
    (void)name;
    (void)start;
    struct dump *d = arg;
    Dwfl_Module **nm = oomkit__realloc(d->modules, (d->n_modules + 1) * sizeof(*nm));
    if (nm == NULL)
        return DWARF_CB_ABORT;
    d->modules = nm;
    d->modules[d->n_modules++] = m;
    return DWARF_CB_OK;
}

static int add_mappings(struct dump *d)
{
    if (dwfl_getmodules(d->dwfl, module_cb, d, 0) != 0 && d->modules == NULL)
        return 0;
    /* Put the main executable first: pprof treats mapping[0] as the binary. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    for (size_t i = 0; i < d->n_modules; i++) {
        const char *name = dwfl_module_info(d->modules[i], NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        if (name != NULL && strcmp(name, exe) == 0 && i != 0) {
            Dwfl_Module *t = d->modules[0];
            d->modules[0] = d->modules[i];
            d->modules[i] = t;
            break;
        }
    }
    struct oomkit__pprof_profile *p = &d->b.profile;
    p->mappings = oomkit__calloc(d->n_modules ? d->n_modules : 1, sizeof(*p->mappings));
    d->modules_full = oomkit__calloc(d->n_modules ? d->n_modules : 1, sizeof(bool));
    if (p->mappings == NULL || d->modules_full == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < d->n_modules; i++) {
        Dwarf_Addr lo = 0, hi = 0;
        const char *name = dwfl_module_info(d->modules[i], NULL, &lo, &hi, NULL, NULL, NULL, NULL);
        struct oomkit__pprof_mapping *m = &p->mappings[p->n_mappings++];
        m->id = i + 1;
        m->memory_start = lo;
        m->memory_limit = hi;
        m->filename = oomkit__pprof_intern_cstr(&d->b, name ? name : "");
        /* System libraries get symbol names only (their build IDs let pprof
         * find debug info later): loading their separate DWARF files at
         * dump time cost ~13 MB of RSS on Debian with libc6-dbg installed,
         * more than the 10 % RSS budget of the benchmark. lines=all lifts
         * this. */
        d->modules_full[i] = oomkit__prof_cfg.lines_all || name == NULL ||
                             (strncmp(name, "/usr/lib/", 9) != 0 && strncmp(name, "/lib/", 5) != 0 &&
                              strncmp(name, "/lib64/", 7) != 0);
        const unsigned char *bits;
        GElf_Addr vaddr, elf_bias;
        /* libdw learns a module's build ID only once its ELF file is open. */
        (void)dwfl_module_getelf(d->modules[i], &elf_bias);
        int len = dwfl_module_build_id(d->modules[i], &bits, &vaddr);
        if (len > 0) {
            char hex[2 * 64 + 1];
            static const char digits[] = "0123456789abcdef";
            int k = 0;
            for (int j = 0; j < len && j < 64; j++) {
                hex[k++] = digits[bits[j] >> 4];
                hex[k++] = digits[bits[j] & 15];
            }
            hex[k] = '\0';
            m->build_id = oomkit__pprof_intern_cstr(&d->b, hex);
        }
        m->has_functions = true;
        m->has_filenames = m->has_line_numbers = m->has_inline_frames = d->modules_full[i];
        if (m->filename < 0 || m->build_id < 0)
            return -ENOMEM;
    }
    return 0;
}

static uint64_t mapping_of(struct dump *d, Dwfl_Module *m)
{
    for (size_t i = 0; i < d->n_modules; i++)
        if (d->modules[i] == m)
            return i + 1;
    return 0;
}

static int64_t function_id(struct dump *d, const char *raw_name, const char *file, int64_t *err)
{
    char *dm = NULL;
    const char *name = raw_name ? raw_name : "??";
    if (d->demangle != NULL && raw_name != NULL && raw_name[0] == '_' && raw_name[1] == 'Z') {
        int status = -1;
        dm = d->demangle(raw_name, NULL, NULL, &status);
        if (status != 0)
            dm = NULL;
    }
    int64_t ni = oomkit__pprof_intern_cstr(&d->b, dm ? dm : name);
    int64_t si = oomkit__pprof_intern_cstr(&d->b, name);
    int64_t fi = oomkit__pprof_intern_cstr(&d->b, file ? file : "");
    if (dm != NULL)
        oomkit__prof_real.free(dm); /* __cxa_demangle allocates with malloc */
    if (ni < 0 || si < 0 || fi < 0) {
        *err = -ENOMEM;
        return 0;
    }
    uint64_t key = (uint64_t)ni << 32 | (uint64_t)fi;
    struct oomkit__pprof_profile *p = &d->b.profile;
    if ((p->n_functions + 1) * 2 > d->fn_cap) {
        size_t nc = d->fn_cap ? d->fn_cap * 2 : 1024;
        uint64_t *nk = oomkit__calloc(nc, sizeof(*nk)), *ni2 = oomkit__calloc(nc, sizeof(*ni2));
        if (nk == NULL || ni2 == NULL) {
            oomkit__free(nk);
            oomkit__free(ni2);
            *err = -ENOMEM;
            return 0;
        }
        for (size_t i = 0; i < d->fn_cap; i++) {
            if (d->fn_keys[i] == 0)
                continue;
            size_t j = (size_t)(d->fn_keys[i] * 0x9E3779B97F4A7C15ULL >> 20) & (nc - 1);
            while (nk[j] != 0)
                j = (j + 1) & (nc - 1);
            nk[j] = d->fn_keys[i];
            ni2[j] = d->fn_ids[i];
        }
        oomkit__free(d->fn_keys);
        oomkit__free(d->fn_ids);
        d->fn_keys = nk;
        d->fn_ids = ni2;
        d->fn_cap = nc;
    }
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 20) & (d->fn_cap - 1);
    while (d->fn_keys[j] != 0) {
        if (d->fn_keys[j] == key)
            return (int64_t)d->fn_ids[j];
        j = (j + 1) & (d->fn_cap - 1);
    }
    if (grow((void **)&p->functions, &d->cap_functions, p->n_functions, sizeof(*p->functions))) {
        *err = -ENOMEM;
        return 0;
    }
    struct oomkit__pprof_function *f = &p->functions[p->n_functions++];
    memset(f, 0, sizeof(*f));
    f->id = p->n_functions;
    f->name = ni;
    f->system_name = si;
    f->filename = fi;
    d->fn_keys[j] = key;
    d->fn_ids[j] = f->id;
    return (int64_t)f->id;
}

static int add_line(struct dump *d, struct oomkit__pprof_location *loc, size_t *cap,
                    const char *name, const char *file, int line)
{
    int64_t err = 0;
    int64_t fid = function_id(d, name, file, &err);
    if (err != 0)
        return (int)err;
    if (grow((void **)&loc->lines, cap, loc->n_lines, sizeof(*loc->lines)))
        return -ENOMEM;
    loc->lines[loc->n_lines].function_id = (uint64_t)fid;
    loc->lines[loc->n_lines].line = line;
    loc->n_lines++;
    return 0;
}

/* Source file of a DW_AT_call_file index in the CU of `cu`. */
static const char *call_file(Dwarf_Die *cu, Dwarf_Die *die)
{
    Dwarf_Attribute a;
    Dwarf_Word idx;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_attr(die, DW_AT_call_file, &a) == NULL || dwarf_formudata(&a, &idx) != 0)
        return NULL;
    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
        return NULL;
    return dwarf_filesrc(files, idx, NULL, NULL);
}

static int call_line(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    if (dwarf_attr(die, DW_AT_call_line, &a) == NULL || dwarf_formudata(&a, &v) != 0)
        return 0;
    return (int)v;
}

/* Fills loc->lines for pc: innermost inlined function first, the real
 * (out-of-line) function last, as profile.proto orders them. */
static int symbolize(struct dump *d, struct oomkit__pprof_location *loc, Dwarf_Addr pc)
{
    size_t cap = 0;
    Dwfl_Module *m = d->dwfl ? dwfl_addrmodule(d->dwfl, pc) : NULL;
    if (m == NULL)
        return 0;
    loc->mapping_id = mapping_of(d, m);
    const char *sym = dwfl_module_addrname(m, pc);
    const char *file = NULL;
    int line = 0;
    if (loc->mapping_id == 0 || !d->modules_full[loc->mapping_id - 1])
        return add_line(d, loc, &cap, sym, NULL, 0);
    Dwfl_Line *dl = dwfl_module_getsrc(m, pc);
    if (dl != NULL)
        file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);

    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m, pc, &bias);
    Dwarf_Die *scopes = NULL;
    int n = cu ? dwarf_getscopes(cu, pc - bias, &scopes) : 0;
    int err = 0;
    bool done = false;
    if (n > 0) {
        /* Walk from the innermost scope out; each inlined subroutine names
         * the function whose code this is and the call site in its caller. */
        const char *cur_file = file;
        int cur_line = line;
        for (int i = 0; i < n && err == 0; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
                continue;
            const char *name = dwarf_diename(&scopes[i]);
            if (tag == DW_TAG_subprogram) {
                /* Prefer the ELF symbol (mangled, demangled later) for the
                 * out-of-line function: DWARF names lack C++ scopes. */
                err = add_line(d, loc, &cap, sym ? sym : name, cur_file, cur_line);
                done = true;
                break;
            }
            err = add_line(d, loc, &cap, name, cur_file, cur_line);
            cur_file = call_file(cu, &scopes[i]);
            cur_line = call_line(&scopes[i]);
        }
    }
    free(scopes); /* libdw allocates scopes with malloc */
    if (err == 0 && !done && loc->n_lines == 0)
        err = add_line(d, loc, &cap, sym, file, line);
    return err;
}

static int64_t location_id(struct dump *d, uintptr_t ret, int *err)
{
    struct oomkit__pprof_profile *p = &d->b.profile;
    if ((p->n_locations + 1) * 2 > d->addr_cap) {
        size_t nc = d->addr_cap ? d->addr_cap * 2 : 4096;
        uintptr_t *nk = oomkit__calloc(nc, sizeof(*nk));
        uint64_t *ni = oomkit__calloc(nc, sizeof(*ni));
        if (nk == NULL || ni == NULL) {
            oomkit__free(nk);
            oomkit__free(ni);
            *err = -ENOMEM;
            return 0;
        }
        for (size_t i = 0; i < d->addr_cap; i++) {
            if (d->addr_keys[i] == 0)
                continue;
            size_t j = (size_t)(d->addr_keys[i] * 0x9E3779B97F4A7C15ULL >> 20) & (nc - 1);
            while (nk[j] != 0)
                j = (j + 1) & (nc - 1);
            nk[j] = d->addr_keys[i];
            ni[j] = d->addr_ids[i];
        }
        oomkit__free(d->addr_keys);
        oomkit__free(d->addr_ids);
        d->addr_keys = nk;
        d->addr_ids = ni;
        d->addr_cap = nc;
    }
    size_t j = (size_t)(ret * 0x9E3779B97F4A7C15ULL >> 20) & (d->addr_cap - 1);
    while (d->addr_keys[j] != 0) {
        if (d->addr_keys[j] == ret)
            return (int64_t)d->addr_ids[j];
        j = (j + 1) & (d->addr_cap - 1);
    }
    if (grow((void **)&p->locations, &d->cap_locations, p->n_locations, sizeof(*p->locations))) {
        *err = -ENOMEM;
        return 0;
    }
    struct oomkit__pprof_location *loc = &p->locations[p->n_locations++];
    memset(loc, 0, sizeof(*loc));
    loc->id = p->n_locations;
    /* A return address points after the call; the call is at ret - 1. */
    loc->address = ret - 1;
    *err = symbolize(d, loc, ret - 1);
    d->addr_keys[j] = ret;
    d->addr_ids[j] = loc->id;
    return (int64_t)loc->id;
}

static int add_samples(struct dump *d)
{
    struct oomkit__pprof_profile *p = &d->b.profile;
    uint32_t n = oomkit__prof_stack_count();
    size_t cap = 0;
    for (uint32_t id = 0; id < n; id++) {
        struct prof_stack *s = oomkit__prof_stack_get(id);
        int64_t v[PROF_NVALUES];
        bool any = false;
        for (int k = 0; k < PROF_NVALUES; k++) {
            v[k] = oomkit__prof_stack_value(s, k);
            any |= v[k] != 0;
        }
        if (!any)
            continue;
        if (grow((void **)&p->samples, &cap, p->n_samples, sizeof(*p->samples)))
            return -ENOMEM;
        struct oomkit__pprof_sample *smp = &p->samples[p->n_samples++];
        memset(smp, 0, sizeof(*smp));
        smp->values = oomkit__malloc(sizeof(int64_t) * PROF_NVALUES);
        uint32_t nf = id == 0 ? 0 : s->nframes;
        smp->location_ids = oomkit__malloc(sizeof(uint64_t) * (nf ? nf : 1));
        if (smp->values == NULL || smp->location_ids == NULL)
            return -ENOMEM;
        memcpy(smp->values, v, sizeof(v));
        smp->n_values = PROF_NVALUES;
        const uintptr_t *frames = oomkit__prof_stack_frames(s);
        for (uint32_t f = 0; f < nf; f++) {
            int err = 0;
            int64_t loc = location_id(d, frames[f], &err);
            if (err != 0)
                return err;
            smp->location_ids[smp->n_location_ids++] = (uint64_t)loc;
        }
    }
    return 0;
}

static int build(struct dump *d)
{
    struct oomkit__pprof_profile *p = &d->b.profile;
    p->sample_types = oomkit__calloc(PROF_NVALUES, sizeof(*p->sample_types));
    if (p->sample_types == NULL)
        return -ENOMEM;
    p->n_sample_types = PROF_NVALUES;
    for (int k = 0; k < PROF_NVALUES; k++) {
        p->sample_types[k].type = oomkit__pprof_intern_cstr(&d->b, type_names[k][0]);
        p->sample_types[k].unit = oomkit__pprof_intern_cstr(&d->b, type_names[k][1]);
    }
    p->default_sample_type = p->sample_types[PROF_V_INUSE_BYTES].type;
    p->period_type.type = oomkit__pprof_intern_cstr(&d->b, "space");
    p->period_type.unit = oomkit__pprof_intern_cstr(&d->b, "bytes");
    p->period = (int64_t)oomkit__prof_cfg.sample_bytes;
    /* pprof drops these frames and everything they call, so C++ samples end
     * at the code that said `new`, not inside libstdc++. */
    p->drop_frames = oomkit__pprof_intern_cstr(
        &d->b, "operator new.*|operator delete.*|_Zn[wa].*|__gnu_cxx::new_allocator.*");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    p->time_nanos = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    char comment[128];
    snprintf(comment, sizeof(comment), "oomkit-prof pid %ld, %s", (long)getpid(),
             oomkit__prof_exact ? "exact: every allocation recorded"
                                : "Poisson-sampled by bytes; values are un-sampled estimates");
    p->comments = oomkit__malloc(sizeof(int64_t));
    if (p->comments == NULL)
        return -ENOMEM;
    p->comments[0] = oomkit__pprof_intern_cstr(&d->b, comment);
    p->n_comments = 1;

    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
    };
    d->dwfl = dwfl_begin(&cb);
    if (d->dwfl != NULL) {
        dwfl_report_begin(d->dwfl);
        if (dwfl_linux_proc_report(d->dwfl, getpid()) != 0 ||
            dwfl_report_end(d->dwfl, NULL, NULL) != 0) {
            dwfl_end(d->dwfl);
            d->dwfl = NULL;
        }
    }
    d->demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(RTLD_DEFAULT, "__cxa_demangle");
    int err = d->dwfl ? add_mappings(d) : 0;
    if (err == 0)
        err = add_samples(d);
    return err;
}

int oomkit__prof_write(const char *path)
{
    struct dump d;
    memset(&d, 0, sizeof(d));
    int err = oomkit__pprof_builder_init(&d.b);
    if (err == 0)
        err = build(&d);
    if (err == 0)
        err = oomkit__pprof_write_file(&d.b.profile, path);
    if (d.dwfl != NULL)
        dwfl_end(d.dwfl);
    oomkit__free(d.addr_keys);
    oomkit__free(d.addr_ids);
    oomkit__free(d.fn_keys);
    oomkit__free(d.fn_ids);
    oomkit__free(d.modules);
    oomkit__free(d.modules_full);
    oomkit__pprof_builder_free(&d.b);
    return err;
}
