/* The MPHF builder: hashes the keys, groups them by part, and for each part
 * searches every bucket's 8-bit pilot, displacing already placed buckets
 * (cuckoo style) when no pilot fits; then fills the remap table. It writes
 * straight into a zeroed blob in the layout of mph_internal.h.
 *
 * Bounds. Memory: the hash array (8 bytes per key, sorted in place by part)
 * plus one part's scratch (8 bytes per key for its bucket-ordered copy,
 * 4 bytes per slot of owners, 1 bit per slot, 16 bytes per bucket), plus a
 * bitmap of all slots and the blob. Work: a bucket tries at most 256 pilots; a part
 * displaces at most MAX_EVICTIONS(k) buckets before the attempt is given up
 * and the whole build restarts with the next seed, at most max_attempts
 * times. So the build always ends, with a function or -EINVAL.
 *
 * Determinism. The output depends only on the multiset of hashes: parts
 * and buckets are sets, buckets are placed in (size desc, index asc) order,
 * displaced buckets come back through a heap with the same order, and the
 * only randomness is a splitmix64 stream seeded from the hash seed and the
 * part number. Parameters become integers (per-million) before any
 * arithmetic, so no floating-point rounding reaches the layout.
 */
#include "mph/mph_internal.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <sys/mman.h>

#define DEFAULT_LAMBDA 3.5
/* alpha 0.995 builds as fast as 0.99 (measured) and saves 0.16 bits/key of
 * remap table: 8 / 3.5 + 32 * (1 / 0.995 - 1) = 2.45 bits/key. */
#define DEFAULT_ALPHA 0.995
#define DEFAULT_KEYS_PER_PART 131072u
#define SMALL_PART_ALPHA_PPM 970000u
#define DEFAULT_ATTEMPTS 8u
#define SLOT_EMPTY UINT32_MAX
/* A bucket larger than this cannot be placed with any realistic chance and
 * signals a degenerate hash; the attempt restarts with another seed. */
#define MAX_BUCKET 255u
#define RECENT 8u
#define RECENT_PENALTY (1ull << 20)
/* Displacements allowed per part of k keys before the attempt fails. Good
 * parameters need a few per thousand keys; this leaves a wide margin. */
#define MAX_EVICTIONS(k) (16u * (uint64_t)(k) + 4096u)

#define ERR_RETRY 1 /* internal: this seed failed, try the next one */
#define ERR_DUP 2   /* internal: two keys have the same 128-bit hash */


static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t attempt_seed(uint64_t seed, uint32_t attempt)
{
    if (attempt == 0)
        return seed;
    uint64_t st = seed ^ ((uint64_t)attempt << 32);
    return splitmix64(&st);
}

/* ---- per-part construction ------------------------------------------- */

struct part_ctx {
    /* Scratch sized for the largest part, reused for every part. */
    uint64_t *ent;         /* this part's h * C3 (lo), ordered by bucket */
    uint32_t *bstart;      /* bpp + 1 bucket starts into ent */
    uint32_t *order;       /* buckets by size desc */
    uint32_t *taken;       /* slot -> owning bucket or SLOT_EMPTY */
    /* The same occupancy as one bit per slot: the pilot search reads only
     * this, and at 1 bit per slot a part's bitmap (16 KiB) stays in L1,
     * where taken[] (4 bytes per slot) would spill to L2. */
    uint64_t *bits;
    uint64_t *heap;        /* displaced buckets: (size << 32) | ~bucket */
    size_t heap_len;
    uint32_t size_count[MAX_BUCKET + 2];
    uint32_t recent[RECENT];
    uint32_t recent_at;
    uint64_t rng;
    uint64_t evictions;
    uint64_t cap_k; /* ent capacity in keys; taken holds the slots of cap_k */
};

static void heap_push(struct part_ctx *c, uint64_t v)
{
    size_t i = c->heap_len++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (c->heap[up] >= v)
            break;
        c->heap[i] = c->heap[up];
        i = up;
    }
    c->heap[i] = v;
}

static uint64_t heap_pop(struct part_ctx *c)
{
    uint64_t top = c->heap[0], last = c->heap[--c->heap_len];
    size_t i = 0, len = c->heap_len;
    for (;;) {
        size_t l = 2 * i + 1, big = i;
        uint64_t bv = last;
        if (l < len && c->heap[l] > bv) {
            big = l;
            bv = c->heap[l];
        }
        if (l + 1 < len && c->heap[l + 1] > bv)
            big = l + 1;
        if (big == i)
            break;
        c->heap[i] = c->heap[big];
        i = big;
    }
    if (len > 0)
        c->heap[i] = last;
    return top;
}

static int is_recent(const struct part_ctx *c, uint32_t b)
{
    for (uint32_t i = 0; i < RECENT; i++)
        if (c->recent[i] == b)
            return 1;
    return 0;
}

/* Slots of bucket b's keys under pilot into sl; 0 when two of them collide. */
static int bucket_slots(const struct part_ctx *c, uint32_t b, uint64_t pilot, uint32_t slots,
                        uint32_t *sl)
{
    uint32_t lo = c->bstart[b], k = c->bstart[b + 1] - lo;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t s = (uint32_t)mph_slot_in_part(c->ent[lo + j], pilot, slots);
        for (uint32_t i = 0; i < j; i++)
            if (sl[i] == s)
                return 0;
        sl[j] = s;
    }
    return 1;
}

static inline int bit_get(const uint64_t *bits, uint32_t s)
{
    return (int)((bits[s >> 6] >> (s & 63)) & 1);
}

static void occupy(struct part_ctx *c, uint32_t b, const uint32_t *sl, uint32_t k)
{
    for (uint32_t j = 0; j < k; j++) {
        c->taken[sl[j]] = b;
        c->bits[sl[j] >> 6] |= 1ull << (sl[j] & 63);
    }
}

static void vacate(struct part_ctx *c, uint32_t b, uint8_t pilot, uint32_t slots)
{
    uint32_t lo = c->bstart[b], k = c->bstart[b + 1] - lo;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t s = (uint32_t)mph_slot_in_part(c->ent[lo + j], pilot, slots);
        c->taken[s] = SLOT_EMPTY;
        c->bits[s >> 6] &= ~(1ull << (s & 63));
    }
}

/* Places bucket b, displacing others if it must. 0 or ERR_RETRY. */
static int place(struct part_ctx *c, uint32_t b, uint8_t *pilots, uint32_t slots,
                 uint64_t max_evictions)
{
    uint32_t k = c->bstart[b + 1] - c->bstart[b];
    uint32_t sl[MAX_BUCKET];

    /* Fast path: the first pilot whose slots are all free. */
    for (uint32_t p = 0; p < 256; p++) {
        uint32_t lo = c->bstart[b], j;
        uint64_t hp = p;
        for (j = 0; j < k; j++) {
            uint32_t s = (uint32_t)mph_slot_in_part(c->ent[lo + j], hp, slots);
            if (bit_get(c->bits, s))
                break;
            sl[j] = s;
        }
        if (j < k)
            continue;
        int distinct = 1;
        for (j = 1; j < k && distinct; j++)
            for (uint32_t i = 0; i < j; i++)
                if (sl[i] == sl[j]) {
                    distinct = 0;
                    break;
                }
        if (!distinct)
            continue;
        pilots[b] = (uint8_t)p;
        occupy(c, b, sl, k);
        return 0;
    }

    /* Slow path: the pilot whose displaced buckets weigh least (sum of
     * squared sizes, so small buckets are preferred), displacing a bucket
     * placed in the last RECENT slow steps only as a last resort, which
     * breaks most cycles. (Forbidding them outright made large buckets in
     * small parts unplaceable: measured, 10% of 1..300-key sets retried.)
     * The scan starts at a random pilot so ties do not always favour 0. */
    uint32_t start = (uint32_t)splitmix64(&c->rng) & 255u;
    uint64_t best_score = UINT64_MAX;
    uint32_t best = 0;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t p = (start + i) & 255u;
        if (!bucket_slots(c, b, p, slots, sl))
            continue;
        uint64_t score = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t o = c->taken[sl[j]];
            if (o == SLOT_EMPTY)
                continue;
            uint64_t os = c->bstart[o + 1] - c->bstart[o];
            score += os * os + (is_recent(c, o) ? RECENT_PENALTY : 0);
        }
        if (score < best_score) {
            best_score = score;
            best = p;
        }
    }
    if (best_score == UINT64_MAX)
        return ERR_RETRY;
    bucket_slots(c, b, best, slots, sl);
    for (uint32_t j = 0; j < k; j++) {
        uint32_t o = c->taken[sl[j]];
        if (o == SLOT_EMPTY)
            continue;
        vacate(c, o, pilots[o], slots);
        uint64_t os = c->bstart[o + 1] - c->bstart[o];
        heap_push(c, (os << 32) | (uint32_t)~o);
        if (++c->evictions > max_evictions)
            return ERR_RETRY;
    }
    pilots[b] = (uint8_t)best;
    occupy(c, b, sl, k);
    c->recent[c->recent_at++ % RECENT] = b;
    return 0;
}

/* Builds part `p` from its k hashes in h. Writes pilots[0..bpp) and marks
 * the occupied slots in the global bitmap at bit base + s. */
static int build_part(struct part_ctx *c, const uint64_t *h, uint32_t k, uint32_t parts,
                      uint32_t bpp, uint32_t linear, uint32_t slots, uint8_t *pilots, uint64_t *occupied,
                      uint64_t base, uint64_t rng_seed)
{
    /* Counting sort by bucket; bucketfn is monotone in hi inside a part, but
     * the in-place partition left the part unsorted. */
    memset(c->bstart, 0, ((size_t)bpp + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < k; i++)
        c->bstart[mph_bucketfn(h[i] * parts, bpp, linear) + 1]++;
    for (uint32_t b = 0; b < bpp; b++)
        c->bstart[b + 1] += c->bstart[b];
    /* order[] doubles as the fill cursor for the scatter. */
    for (uint32_t b = 0; b < bpp; b++)
        c->order[b] = c->bstart[b];
    for (uint32_t i = 0; i < k; i++) {
        uint64_t b = mph_bucketfn(h[i] * parts, bpp, linear);
        c->ent[c->order[b]++] = h[i] * MPH_C3;
    }

    /* Two keys with one hash share a bucket, and lo = h * C3 is a
     * bijection of h: find them here. */
    memset(c->size_count, 0, sizeof(c->size_count));
    for (uint32_t b = 0; b < bpp; b++) {
        uint32_t lo = c->bstart[b], sz = c->bstart[b + 1] - lo;
        if (sz > MAX_BUCKET)
            return ERR_RETRY;
        for (uint32_t j = 1; j < sz; j++)
            for (uint32_t i = 0; i < j; i++)
                if (c->ent[lo + i] == c->ent[lo + j])
                    return ERR_DUP;
        c->size_count[sz]++;
    }
    /* Buckets by size, largest first, ties by index (counting sort). */
    uint32_t at = 0;
    uint32_t first_of_size[MAX_BUCKET + 1];
    for (int sz = (int)MAX_BUCKET; sz >= 0; sz--) {
        first_of_size[sz] = at;
        at += c->size_count[sz];
    }
    for (uint32_t b = 0; b < bpp; b++) {
        uint32_t sz = c->bstart[b + 1] - c->bstart[b];
        c->order[first_of_size[sz]++] = b;
    }

    for (uint32_t s = 0; s < slots; s++)
        c->taken[s] = SLOT_EMPTY;
    memset(c->bits, 0, ((size_t)slots / 64 + 1) * sizeof(uint64_t));
    memset(pilots, 0, bpp);
    for (uint32_t i = 0; i < RECENT; i++)
        c->recent[i] = SLOT_EMPTY;
    c->recent_at = 0;
    c->heap_len = 0;
    c->evictions = 0;
    c->rng = rng_seed;
    uint64_t max_ev = MAX_EVICTIONS(k);

    for (uint32_t i = 0; i < bpp; i++) {
        uint32_t b = c->order[i];
        if (c->bstart[b + 1] == c->bstart[b])
            break; /* only empty buckets remain; their pilot stays 0 */
        int rc = place(c, b, pilots, slots, max_ev);
        while (rc == 0 && c->heap_len > 0)
            rc = place(c, ~(uint32_t)heap_pop(c), pilots, slots, max_ev);
        if (rc != 0)
            return rc;
    }
    for (uint32_t s = 0; s < slots; s++)
        if (bit_get(c->bits, s))
            occupied[(base + s) >> 6] |= 1ull << ((base + s) & 63);
    return 0;
}

/* Asks for transparent huge pages over the 2 MiB-aligned interior of a
 * large buffer. On the VMs this was measured on, first-touch faults of 4 KiB
 * pages cost about 4 ms per MiB, twice the cost with huge pages, and the
 * hash array is the build's largest buffer. Advice only: failure is fine,
 * and it is harmless on memory from a custom allocator hook. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + len) & ~(huge - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

/* ---- duplicates ---------------------------------------------------------- */

struct hidx {
    uint64_t h;
    size_t idx;
};

static int hidx_cmp(const void *a, const void *b)
{
    const struct hidx *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static int same_key(oomkit_str a, oomkit_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Slow path, taken only when two hashes are equal: finds the smallest index
 * j whose key equals an earlier key's. *dup = j and 0, or 1 when the equal
 * hashes belong to different keys (a true 64-bit collision: reseed). */
static int find_duplicate(const oomkit_str *keys, size_t n, uint64_t hash_seed, size_t *dup)
{
    struct hidx *a = oomkit__malloc(n * sizeof(*a));
    if (a == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        a[i] = (struct hidx){ oomkit__hash(keys[i].ptr, keys[i].len, hash_seed), i };
    }
    qsort(a, n, sizeof(*a), hidx_cmp);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && a[e].h == a[i].h)
            e++;
        for (size_t j = i + 1; j < e; j++)
            for (size_t q = i; q < j; q++)
                if (same_key(keys[a[q].idx], keys[a[j].idx]) && a[j].idx < best)
                    best = a[j].idx;
        i = e;
    }
    oomkit__free(a);
    if (best == SIZE_MAX)
        return 1;
    *dup = best;
    return 0;
}

/* ---- the whole build ----------------------------------------------------- */

int oomkit__mph_layout(const struct mph_header *hd, struct mph_layout *L)
{
    /* Every size is bounded first so that no product below can overflow. */
    if (hd->n > OOMKIT_MPH_MAX_KEYS || hd->slots_total > UINT32_MAX ||
        hd->slots_total < hd->n || hd->fp_bits > 32 || hd->key_bytes > (1ull << 48) ||
        (uint64_t)hd->parts * hd->bpp > UINT32_MAX)
        return -EBADMSG;
    uint64_t at = MPH_HEADER_BYTES;
#define SECTION(off, len, bytes)                                                         \
    do {                                                                                 \
        (off) = at;                                                                      \
        (len) = (bytes);                                                                 \
        at = ((off) + (len) + MPH_ALIGN - 1) & ~(uint64_t)(MPH_ALIGN - 1);               \
    } while (0)
    memset(L, 0, sizeof(*L));
    SECTION(L->parts_off, L->parts_len, (uint64_t)hd->parts * sizeof(struct mph_part));
    SECTION(L->pilots_off, L->pilots_len, (uint64_t)hd->parts * hd->bpp);
    SECTION(L->remap_off, L->remap_len, (hd->slots_total - hd->n) * 4);
    if (hd->kind == MPH_KIND_MAP) {
        SECTION(L->values_off, L->values_len, hd->n * 8);
        SECTION(L->fp_off, L->fp_len, hd->fp_bits ? (hd->n * hd->fp_bits + 7) / 8 + 8 : 0);
        if (hd->flags & MPH_FLAG_KEYS) {
            SECTION(L->koff_off, L->koff_len, (hd->n + 1) * 8);
            SECTION(L->kbytes_off, L->kbytes_len, hd->key_bytes);
        }
    }
#undef SECTION
    L->total = at;
    return 0;
}

static int check_options(const oomkit_mph_options *o, uint64_t *lambda_ppm,
                         uint64_t *alpha_ppm, uint32_t *kpp, uint32_t *attempts)
{
    double lambda = o && o->keys_per_bucket != 0 ? o->keys_per_bucket : DEFAULT_LAMBDA;
    double alpha = o && o->load_factor != 0 ? o->load_factor : DEFAULT_ALPHA;
    if (!(lambda >= 1.0 && lambda <= 32.0) || !(alpha > 0.5 && alpha < 1.0))
        return -EINVAL;
    *lambda_ppm = (uint64_t)(lambda * 1e6 + 0.5);
    *alpha_ppm = (uint64_t)(alpha * 1e6 + 0.5);
    *kpp = o && o->keys_per_part ? o->keys_per_part : DEFAULT_KEYS_PER_PART;
    *attempts = o && o->max_attempts ? o->max_attempts : DEFAULT_ATTEMPTS;
    if (*kpp < 16)
        return -EINVAL;
    return 0;
}

/* Sorts h in place by part (American flag sort) and fills cnt/start. */
static void partition(uint64_t *h, size_t n, uint32_t parts, uint64_t *start,
                      uint64_t *next)
{
    for (uint32_t p = 0; p <= parts; p++)
        start[p] = 0;
    for (size_t i = 0; i < n; i++)
        start[mph_part_of(h[i], parts) + 1]++;
    for (uint32_t p = 0; p < parts; p++)
        start[p + 1] += start[p];
    for (uint32_t p = 0; p < parts; p++)
        next[p] = start[p];
    for (uint32_t p = 0; p < parts; p++) {
        while (next[p] < start[p + 1]) {
            uint64_t e = h[next[p]];
            uint64_t q = mph_part_of(e, parts);
            while (q != p) {
                uint64_t t = h[next[q]];
                h[next[q]++] = e;
                e = t;
                q = mph_part_of(e, parts);
            }
            h[next[p]++] = e;
        }
    }
}

static int fill_remap(uint32_t *remap, const uint64_t *occupied, uint64_t n, uint64_t total)
{
    uint64_t free_at = 0;
    for (uint64_t s = n; s < total; s++) {
        if (!(occupied[s >> 6] & (1ull << (s & 63))))
            continue;
        while (free_at < n && (occupied[free_at >> 6] & (1ull << (free_at & 63))))
            free_at++;
        if (free_at >= n)
            return -EBADMSG; /* cannot happen: n keys, n slots below n */
        remap[s - n] = (uint32_t)free_at++;
    }
    return 0;
}

int oomkit__mph_build_blob(const oomkit_str *keys, size_t n, const oomkit_mph_options *opts,
                           const struct mph_build_req *req, uint8_t **blob_out,
                           size_t *blob_len, struct mph_view *view)
{
    uint64_t lambda_ppm, alpha_ppm;
    uint32_t kpp, attempts;
    int rc = check_options(opts, &lambda_ppm, &alpha_ppm, &kpp, &attempts);
    if (rc != 0)
        return rc;
    if (n > OOMKIT_MPH_MAX_KEYS)
        return -E2BIG;
    if (n > 0 && keys == NULL)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (keys[i].ptr == NULL && keys[i].len != 0)
            return -EINVAL;
    uint64_t seed = opts ? opts->seed : 0;

    uint32_t parts = n == 0 ? 0 : (uint32_t)((n + kpp - 1) / kpp);
    uint32_t bpp = 1, linear = 0;
    if (parts > 0) {
        /* bpp = ceil(keys per part / lambda), in integers. */
        uint64_t per = (n + parts - 1) / parts;
        linear = per < MPH_LINEAR_BELOW;
        /* Small parts also get more room: at 0.995 a part of 100 keys has
         * one free slot, and placing its last buckets becomes a search for
         * a perfect matching that cuckoo displacement often cannot finish
         * (measured: 300 parts of 100 keys failed every seed). */
        if (linear && alpha_ppm > SMALL_PART_ALPHA_PPM)
            alpha_ppm = SMALL_PART_ALPHA_PPM;
        bpp = (uint32_t)((per * 1000000u + lambda_ppm - 1) / lambda_ppm);
        if (bpp == 0)
            bpp = 1;
    }
    uint64_t *h = NULL;
    uint64_t *pstart = NULL, *pnext = NULL, *occupied = NULL;
    uint8_t *blob = NULL;
    struct part_ctx c;
    memset(&c, 0, sizeof(c));
    rc = -ENOMEM;
    h = oomkit__malloc((n ? n : 1) * sizeof(*h));
    pstart = oomkit__malloc(((size_t)parts + 1) * sizeof(uint64_t));
    pnext = oomkit__malloc(((size_t)parts + 1) * sizeof(uint64_t));
    if (h == NULL || pstart == NULL || pnext == NULL)
        goto out;
    advise_huge(h, n * sizeof(*h));

    for (uint32_t attempt = 0; attempt < attempts; attempt++) {
        uint64_t hash_seed = attempt_seed(seed, attempt);
        for (size_t i = 0; i < n; i++)
            h[i] = oomkit__hash(keys[i].ptr, keys[i].len, hash_seed);
        if (parts > 0)
            partition(h, n, parts, pstart, pnext);

        struct mph_header hd;
        memset(&hd, 0, sizeof(hd));
        memcpy(hd.magic, MPH_MAGIC, 8);
        hd.version = MPH_VERSION;
        hd.header_bytes = MPH_HEADER_BYTES;
        hd.n = n;
        hd.seed = seed;
        hd.hash_seed = hash_seed;
        hd.parts = parts;
        hd.bpp = parts ? bpp : 0;
        hd.kind = req->kind;
        hd.fp_bits = req->kind == MPH_KIND_MAP ? req->fp_bits : 0;
        hd.flags = req->kind == MPH_KIND_MAP && req->keep_keys ? MPH_FLAG_KEYS : 0;
        hd.flags |= linear ? MPH_FLAG_LINEAR : 0;
        hd.key_bytes = hd.flags & MPH_FLAG_KEYS ? req->key_bytes : 0;
        hd.attempts = attempt + 1;
        uint64_t max_k = 0;
        for (uint32_t p = 0; p < parts; p++) {
            uint64_t k = pstart[p + 1] - pstart[p];
            uint64_t s = (k * 1000000u + alpha_ppm - 1) / alpha_ppm;
            hd.slots_total += s ? s : 1;
            if (k > max_k)
                max_k = k;
        }
        if (hd.slots_total > UINT32_MAX) {
            rc = -E2BIG;
            goto out;
        }
        struct mph_layout L;
        if (oomkit__mph_layout(&hd, &L) != 0) {
            rc = -E2BIG;
            goto out;
        }
        hd.file_bytes = L.total;
        /* Sizes change between attempts only through slots_total (by a few
         * slots), so each attempt allocates afresh. */
        oomkit__free(blob);
        oomkit__free(occupied);
        blob = oomkit__malloc((size_t)L.total);
        occupied = oomkit__calloc((size_t)(hd.slots_total / 64 + 1), sizeof(uint64_t));
        if (blob == NULL || occupied == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        /* A static map's value and fingerprint sections are read at random:
         * huge pages spare most lookups a TLB miss. Advise before the
         * memset touches the pages. Zeroed, so padding is deterministic. */
        advise_huge(blob, (size_t)L.total);
        memset(blob, 0, (size_t)L.total);
        if (c.ent == NULL && parts > 0) {
            uint64_t max_slots = (max_k * 1000000u + alpha_ppm - 1) / alpha_ppm + 1;
            /* Later attempts may have a larger part: size for kpp * 2, but
             * no part holds more than the n keys (keys_per_part UINT32_MAX
             * on 40 keys asked for 64 GiB). */
            uint64_t cap_k = max_k > (uint64_t)kpp * 2 ? max_k : (uint64_t)kpp * 2;
            if (cap_k > n)
                cap_k = n;
            uint64_t cap_s = max_slots > (cap_k * 1000000u) / alpha_ppm + 1
                                 ? max_slots
                                 : (cap_k * 1000000u) / alpha_ppm + 1;
            c.ent = oomkit__malloc(cap_k * sizeof(*c.ent));
            c.taken = oomkit__malloc(cap_s * sizeof(uint32_t));
            c.bits = oomkit__malloc((cap_s / 64 + 1) * sizeof(uint64_t));
            c.bstart = oomkit__malloc(((size_t)bpp + 1) * sizeof(uint32_t));
            c.order = oomkit__malloc(((size_t)bpp + 1) * sizeof(uint32_t));
            c.heap = oomkit__malloc(((size_t)bpp + 1) * sizeof(uint64_t));
            if (!c.ent || !c.taken || !c.bits || !c.bstart || !c.order || !c.heap) {
                rc = -ENOMEM;
                goto out;
            }
            c.cap_k = cap_k;
        }
        if (max_k > c.cap_k && parts > 0)
            continue; /* a part beyond twice the mean: another seed */

        struct mph_part *pt = (struct mph_part *)(blob + L.parts_off);
        uint8_t *pilots = blob + L.pilots_off;
        uint64_t base = 0;
        rc = 0;
        for (uint32_t p = 0; p < parts && rc == 0; p++) {
            uint64_t k = pstart[p + 1] - pstart[p];
            uint64_t s = (k * 1000000u + alpha_ppm - 1) / alpha_ppm;
            if (s == 0)
                s = 1;
            pt[p].base = (uint32_t)base;
            pt[p].slots = (uint32_t)s;
            uint64_t rs = hash_seed ^ ((uint64_t)p * 0xd6e8feb86659fd93ull);
            rc = build_part(&c, h + pstart[p], (uint32_t)k, parts, bpp, linear, (uint32_t)s,
                            pilots + (uint64_t)p * bpp, occupied, base, rs);
            base += s;
        }
        if (rc == ERR_DUP) {
            size_t dup = 0;
            int f = find_duplicate(keys, n, hash_seed, &dup);
            if (f < 0) {
                rc = f;
                goto out;
            }
            if (f == 0) {
                if (opts && opts->error_index)
                    *opts->error_index = dup;
                rc = -EEXIST;
                goto out;
            }
            continue; /* a genuine 64-bit collision: next seed */
        }
        if (rc == ERR_RETRY)
            continue;
        rc = fill_remap((uint32_t *)(blob + L.remap_off), occupied, n, hd.slots_total);
        if (rc != 0)
            goto out;
        memcpy(blob, &hd, sizeof(hd));
        struct mph_handle tmp;
        rc = oomkit__mph_view_init(&tmp, blob, (size_t)L.total, 0);
        if (rc != 0)
            goto out;
        *view = tmp.v;
        *blob_out = blob;
        *blob_len = (size_t)L.total;
        blob = NULL;
        rc = 0;
        goto out;
    }
    rc = -EINVAL; /* max_attempts seeds failed */
out:
    oomkit__free(blob);
    oomkit__free(occupied);
    oomkit__free(h);
    oomkit__free(pstart);
    oomkit__free(pnext);
    oomkit__free(c.ent);
    oomkit__free(c.taken);
    oomkit__free(c.bits);
    oomkit__free(c.bstart);
    oomkit__free(c.order);
    oomkit__free(c.heap);
    return rc;
}
