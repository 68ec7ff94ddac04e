// absl-peer: the C++ peer of oomkit's store benchmark. It keeps the state as
// one absl::flat_hash_map<std::string, int64_t> on the key "ns/name/key"
// (Abseil's SwissTable, the usual answer to "just use a better hash map")
// and measures it on the same TSV workload and in the same JSON schema as
// the Go peer: bytes from mallinfo2 deltas, allocations counted by the
// replaceable operator new below, build, hit/miss lookups, per-object
// delete, listing the biggest namespace and the reconcile loop.
//
// Usage: absl-peer TSV_FILE [LOOKUPS]
// OOMKIT_BENCH_CPU=N pins it to CPU N (bench/bench_cpu.h).
#include "../../bench_cpu.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// ---- allocation counting ---------------------------------------------------
// Every C++ allocation the map and std::string make goes through these
// replaceable operators; counting here sees them all without an
// LD_PRELOAD shim. The bytes themselves are measured from malloc's own
// accounting (mallinfo2), so headers and rounding are included.
static uint64_t g_allocs;

static void *counted_alloc(std::size_t n)
{
    g_allocs++;
    void *p = std::malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}
void *operator new(std::size_t n) { return counted_alloc(n); }
void *operator new[](std::size_t n) { return counted_alloc(n); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    g_allocs++;
    return std::malloc(n ? n : 1);
}
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept
{
    g_allocs++;
    return std::malloc(n ? n : 1);
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }

static uint64_t heap_bytes()
{
    struct mallinfo2 mi = mallinfo2();
    return static_cast<uint64_t>(mi.uordblks + mi.hblkhd);
}

static double now_ns()
{
    using namespace std::chrono;
    return static_cast<double>(
        duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
}

// ---- input -------------------------------------------------------------------

struct Record {
    std::string_view ns, name, key;
    int64_t value;
};
struct Object {
    size_t first, nrec;
};

static bool load(const char *path, std::string &buf, std::vector<Record> &recs,
                 std::vector<Object> &objs)
{
    FILE *f = std::fopen(path, "rb");
    if (!f)
        return false;
    char chunk[1 << 16];
    size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0)
        buf.append(chunk, got);
    std::fclose(f);
    std::string_view all(buf);
    size_t pos = 0;
    while (pos < all.size()) {
        size_t end = all.find('\n', pos);
        if (end == std::string_view::npos)
            end = all.size();
        std::string_view line = all.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty())
            continue;
        std::string_view f4[4];
        for (int i = 0; i < 3; i++) {
            size_t t = line.find('\t');
            if (t == std::string_view::npos)
                return false;
            f4[i] = line.substr(0, t);
            line.remove_prefix(t + 1);
        }
        f4[3] = line;
        std::string v(f4[3]);
        char *e;
        errno = 0;
        long long val = std::strtoll(v.c_str(), &e, 10);
        if (*e || errno)
            return false;
        Record r{f4[0], f4[1], f4[2], static_cast<int64_t>(val)};
        if (!objs.empty()) {
            const Record &p = recs[objs.back().first];
            if (p.ns == r.ns && p.name == r.name) {
                objs.back().nrec++;
                recs.push_back(r);
                continue;
            }
        }
        objs.push_back(Object{recs.size(), 1});
        recs.push_back(r);
    }
    return !recs.empty();
}

static void compose(std::string &b, const Record &r)
{
    b.clear();
    b.append(r.ns).append(1, '/').append(r.name).append(1, '/').append(r.key);
}

using Map = absl::flat_hash_map<std::string, int64_t>;

static void fill(Map &m, const std::vector<Record> &recs)
{
    std::string b;
    for (const Record &r : recs) {
        compose(b, r);
        m.insert_or_assign(b, r.value);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: absl-peer TSV_FILE [LOOKUPS]\n");
        return 2;
    }
    size_t lookups = argc == 3 ? std::strtoull(argv[2], nullptr, 10) : 200000;
    int cpu;
    if (bench_cpu_from_env(&cpu) != 0 || bench_pin_thread(cpu, 0) != 0) {
        std::fprintf(stderr, "absl-peer: cannot pin to OOMKIT_BENCH_CPU='%s'\n",
                     std::getenv("OOMKIT_BENCH_CPU"));
        return 2;
    }
    std::string buf;
    std::vector<Record> recs;
    std::vector<Object> objs;
    if (!load(argv[1], buf, recs, objs)) {
        std::fprintf(stderr, "absl-peer: %s: cannot read or parse\n", argv[1]);
        return 2;
    }
    const size_t n = recs.size();
    const double dn = static_cast<double>(n);

    // Build: each key arrives as a fresh std::string, as a decoder would
    // hand it over, and the map keeps it.
    Map *m = new Map();
    uint64_t b0 = heap_bytes(), a0 = g_allocs;
    double t = now_ns();
    for (const Object &o : objs) {
        for (size_t i = o.first; i < o.first + o.nrec; i++) {
            const Record &r = recs[i];
            std::string k;
            k.reserve(r.ns.size() + r.name.size() + r.key.size() + 2);
            k.append(r.ns).append(1, '/').append(r.name).append(1, '/').append(r.key);
            (*m)[std::move(k)] = r.value;
        }
    }
    double build_ns = now_ns() - t;
    double bytes = static_cast<double>(heap_bytes() - b0) + sizeof(Map);
    double allocs = static_cast<double>(g_allocs - a0);

    std::mt19937_64 rng(1);
    std::vector<size_t> perm(n);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    if (lookups == 0 || lookups > n)
        lookups = n;
    std::string kb;
    kb.reserve(512);
    // The fastest of three passes, as oomkit bench store times its own.
    size_t wrong = 0, found = 0;
    double hit_ns = 0, miss_ns = 0;
    for (int pass = 0; pass < 3; pass++) {
        t = now_ns();
        for (size_t i = 0; i < lookups; i++) {
            const Record &r = recs[perm[i]];
            compose(kb, r);
            auto it = m->find(kb);
            if (it == m->end() || it->second != r.value)
                wrong++;
        }
        double ns = (now_ns() - t) / static_cast<double>(lookups);
        hit_ns = pass == 0 || ns < hit_ns ? ns : hit_ns;
        t = now_ns();
        for (size_t i = 0; i < lookups; i++) {
            compose(kb, recs[perm[i]]);
            kb.push_back('~');
            found += m->contains(kb);
        }
        ns = (now_ns() - t) / static_cast<double>(lookups);
        miss_ns = pass == 0 || ns < miss_ns ? ns : miss_ns;
    }
    if (wrong || found) {
        std::fprintf(stderr, "absl-peer: %zu wrong hits, %zu misses found\n", wrong, found);
        return 3;
    }

    // The biggest namespace, listed by scanning (no index): names repeat
    // once per key, so they go through a set of views into the map's keys.
    absl::flat_hash_map<std::string_view, size_t> per_ns;
    for (const Object &o : objs)
        per_ns[recs[o.first].ns]++;
    std::string_view big;
    size_t big_n = 0;
    for (const auto &e : per_ns)
        if (e.second > big_n || (e.second == big_n && e.first < big))
            big = e.first, big_n = e.second;
    std::string prefix(big);
    prefix.push_back('/');
    size_t listed = 0;
    int reps = 0;
    t = now_ns();
    do {
        absl::flat_hash_set<std::string_view> names;
        for (const auto &e : *m) {
            std::string_view k(e.first);
            if (k.substr(0, prefix.size()) == prefix) {
                k.remove_prefix(prefix.size());
                names.insert(k.substr(0, k.find('/')));
            }
        }
        listed = names.size();
        reps++;
    } while (reps < 50 && now_ns() - t < 2e8);
    double list_ns = (now_ns() - t) / reps;
    if (listed != big_n) {
        std::fprintf(stderr, "absl-peer: listed %zu objects, expected %zu\n", listed, big_n);
        return 3;
    }

    // Delete up to 2000 random objects, key by key.
    std::vector<size_t> operm(objs.size());
    for (size_t i = 0; i < operm.size(); i++)
        operm[i] = i;
    std::shuffle(operm.begin(), operm.end(), rng);
    size_t dels = std::max<size_t>(1, std::min<size_t>(2000, objs.size() / 10));
    t = now_ns();
    for (size_t d = 0; d < dels; d++) {
        const Object &o = objs[operm[d]];
        for (size_t i = o.first; i < o.first + o.nrec; i++) {
            compose(kb, recs[i]);
            m->erase(kb);
        }
    }
    double del_ns = (now_ns() - t) / static_cast<double>(dels);

    // Reconcile: clear() and refill (what C++ code usually writes; Abseil's
    // clear() frees tables above 127 slots, so the refill grows again), and
    // a rebuild into a new map. One warm-up cycle each.
    size_t cycles = std::min<size_t>(20, std::max<size_t>(3, 2000000 / n));
    m->clear();
    fill(*m, recs);
    uint64_t ra = g_allocs;
    t = now_ns();
    for (size_t c = 0; c < cycles; c++) {
        m->clear();
        fill(*m, recs);
    }
    double rec_ns = (now_ns() - t) / static_cast<double>(cycles);
    double rec_allocs = static_cast<double>(g_allocs - ra) / static_cast<double>(cycles);
    ra = g_allocs;
    t = now_ns();
    for (size_t c = 0; c < cycles; c++) {
        delete m;
        m = new Map();
        fill(*m, recs);
    }
    double reb_ns = (now_ns() - t) / static_cast<double>(cycles);
    double reb_allocs = static_cast<double>(g_allocs - ra) / static_cast<double>(cycles);
    delete m;

    std::printf("{\"name\":\"absl-flat\",\"entries\":%zu,\"bytes_per_entry\":%.2f,"
                "\"allocs_per_entry\":%.2f,\"build_ns_per_entry\":%.2f,\"hit_ns\":%.2f,"
                "\"miss_ns\":%.2f,\"delete_object_ns\":%.2f,\"list_namespace_ns\":%.2f,"
                "\"reconcile_allocs_per_cycle\":%.2f,\"reconcile_ns_per_cycle\":%.2f,"
                "\"rebuild_allocs_per_cycle\":%.2f,\"rebuild_ns_per_cycle\":%.2f,"
                "\"objects\":%zu,\"listed_objects\":%zu,\"lookups\":%zu,\"cycles\":%zu}\n",
                n, bytes / dn, allocs / dn, build_ns / dn, hit_ns, miss_ns, del_ns, list_ns,
                rec_allocs, rec_ns, reb_allocs, reb_ns, objs.size(), listed, lookups, cycles);
    return 0;
}
