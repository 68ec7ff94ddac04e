/* libFuzzer target for the store: the input is a little program of
 * operations (put, get, del, del_object, handle put/get/del, clear, compact,
 * iterate, get_many) over raw byte strings, sometimes under a small memory
 * budget, sometimes with a secondary index on the empty key (declared
 * before or in the middle of the program). Every result is cross-checked
 * against the reference model of tests/store/store_model.h, the index
 * against the model's fields, and the full content is compared at the end. */
#include "oomkit/store.h"
#define MODEL_BUCKETS 64u
#define MODEL_MAX_LISTED 512u
#include "store/store_model.h"

#include <stdint.h>
#include <stdlib.h>

static const char *const NSS[4] = { "", "default", "kube\0system", "prod" };
static const size_t NSLEN[4] = { 0, 7, 11, 4 };

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t byte(rd *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* A raw string of 0..7 bytes taken from the input. */
static oomkit_str raw(rd *r)
{
    size_t len = byte(r) % 8;
    if (len > r->n)
        len = r->n;
    oomkit_str s = { (const char *)r->p, len };
    r->p += len;
    r->n -= len;
    return s;
}

typedef struct ix_check {
    const oomkit_store *s;
    model *m;
    int64_t value;
    uint64_t visited;
} ix_check;

static int ix_obj(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    (void)obj;
    ix_check *c = ctx;
    int64_t want;
    oomkit_str empty = { "", 0 };
    if (m_get(c->m, ns, name, empty, &want) != 0 || want != c->value)
        abort();
    c->visited++;
    return 0;
}

static int ix_value(void *ctx, int64_t value, uint64_t objects)
{
    ix_check *c = ctx;
    uint64_t before = c->visited;
    c->value = value;
    if (oomkit_store_index_each(c->s, 0, value, ix_obj, c) != 0 || c->visited - before != objects)
        abort();
    return 0;
}

/* The index on the empty key holds exactly the model's objects that have
 * an empty-key field, each under its value. */
static void check_index(const oomkit_store *s, model *m)
{
    ix_check c = { s, m, 0, 0 };
    if (oomkit_store_index_values(s, 0, ix_value, &c) != 0)
        abort();
    uint64_t want = 0;
    oomkit_str empty = { "", 0 };
    for (size_t b = 0; b < MODEL_BUCKETS; b++)
        for (mobj *o = m->b[b]; o != NULL; o = o->next)
            want += m_field(o, empty) >= 0;
    if (c.visited != want)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static model m;
    rd r = { data, size };
    uint8_t cfg = byte(&r);
    oomkit_store_options o = { 0, 0 };
    if ((cfg & 3) == 0)
        o.budget_bytes = 40 * 1024 + (size_t)(cfg >> 2) * 2048;
    oomkit_store *s;
    int rc = oomkit_store_open(&o, &s);
    if (rc != 0) {
        if (rc != -E2BIG)
            abort();
        return 0;
    }
    memset(&m, 0, sizeof(m));
    int indexed = 0;
    uint32_t ix;
    oomkit_str empty = { "", 0 };
    if (cfg & 4) {
        rc = oomkit_store_index_add(s, empty, &ix);
        if (rc == 0)
            indexed = 1;
        else if (rc != -E2BIG || o.budget_bytes == 0)
            abort();
    }
    while (r.n > 0) {
        uint8_t op = byte(&r) % 10;
        uint8_t ni = byte(&r) % 4;
        oomkit_str ns = { NSS[ni], NSLEN[ni] };
        oomkit_str name = raw(&r), key = raw(&r);
        int64_t v = (int64_t)byte(&r) - 128, got = 0, want = 0;
        switch (op) {
        case 2: {
            /* One write of up to four fields, the first key among them. */
            oomkit_store_field f[4] = { { key, v } };
            size_t n = 1 + byte(&r) % 4;
            for (size_t j = 1; j < n; j++) {
                f[j].key = raw(&r);
                f[j].value = (int64_t)byte(&r) - 128;
            }
            rc = oomkit_store_put_fields(s, ns, name, f, n);
            if (rc == 0) {
                for (size_t j = 0; j < n; j++)
                    m_put(&m, ns, name, f[j].key, f[j].value);
            } else if (rc != -E2BIG || o.budget_bytes == 0) {
                abort();
            }
            break;
        }
        case 0:
        case 1:
            rc = oomkit_store_put(s, ns, name, key, v);
            if (rc == 0)
                m_put(&m, ns, name, key, v);
            else if (rc != -E2BIG || o.budget_bytes == 0)
                abort();
            break;
        case 3:
            rc = oomkit_store_get(s, ns, name, key, &got);
            if (rc != m_get(&m, ns, name, key, &want) || (rc == 0 && got != want))
                abort();
            {
                oomkit_store_lookup q = { ns, name, key, 0, 1 };
                size_t found = 9;
                if (oomkit_store_get_many(s, &q, 1, &found) != 0 || q.rc != rc ||
                    found != (rc == 0) || (rc == 0 && q.value != want))
                    abort();
            }
            break;
        case 4: {
            mobj *ob = m_obj(&m, ns, name, 0);
            int expect = (ob && m_field(ob, key) >= 0) ? 0 : -ENOENT;
            rc = oomkit_store_del(s, ns, name, key);
            if (rc == 0 && expect == 0)
                m_del(&m, ns, name, key);
            else if (!(rc == expect || (rc == -E2BIG && o.budget_bytes != 0 && expect == 0)))
                abort();
            break;
        }
        case 5:
            if (oomkit_store_del_object(s, ns, name) != m_del_object(&m, ns, name))
                abort();
            break;
        case 6: {
            oomkit_store_obj h;
            uint32_t kid;
            rc = oomkit_store_object(s, ns, name, 1, &h);
            if (rc == -E2BIG && o.budget_bytes)
                break;
            if (rc != 0)
                abort();
            m_obj(&m, ns, name, 1);
            rc = oomkit_store_key(s, key, 1, &kid);
            if (rc == -E2BIG && o.budget_bytes)
                break;
            if (rc != 0)
                abort();
            rc = oomkit_store_obj_put(s, h, kid, v);
            if (rc == 0)
                m_put(&m, ns, name, key, v);
            else if (rc != -E2BIG || o.budget_bytes == 0)
                abort();
            if (oomkit_store_obj_get(s, h, kid, &got) != m_get(&m, ns, name, key, &want))
                abort();
            break;
        }
        case 7:
            if (oomkit_store_compact(s) != 0)
                abort();
            if (!indexed && v > 100) {
                rc = oomkit_store_index_add(s, empty, &ix);
                if (rc == 0)
                    indexed = 1;
                else if (rc != -E2BIG || o.budget_bytes == 0)
                    abort();
            }
            break;
        case 8:
            if (byte(&r) < 32) {
                oomkit_store_clear(s);
                m_clear(&m);
            }
            break;
        default:
            if (model_compare(s, &m) != NULL)
                abort();
            if (indexed)
                check_index(s, &m);
            break;
        }
        if (o.budget_bytes) {
            oomkit_store_stats st;
            oomkit_store_stats_get(s, &st);
            if (st.bytes_total > o.budget_bytes)
                abort();
        }
    }
    if (model_compare(s, &m) != NULL)
        abort();
    if (indexed)
        check_index(s, &m);
    oomkit_store_close(s);
    m_clear(&m);
    return 0;
}
