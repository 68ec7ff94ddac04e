/* The linter's YAML loader: yaml_parser_load's job (parser events to a
 * yaml_document_t whose aliases point at their anchor's node), with bounds
 * that keep hostile input cheap. Manifests and the config file are read
 * through it.
 *
 * - Nesting: at most OOMKIT__YNODE_DEPTH_MAX open collections. libyaml's
 *   scanner keeps one possible simple key per flow level and checks them
 *   all at every token, so "[[[[..." costs depth squared (0.2.5: 40 000
 *   levels took 10 s); stopping at the limit stops reading the input too.
 * - Aliases: the document as it would be with every alias expanded, counted
 *   in units of one per collection and 1 + length per scalar, must stay
 *   within EXPAND_FLOOR + EXPAND_PER_CHAR x the characters read so far.
 *   Every walk over the tree (Lists, containers, merge keys, option
 *   strings) is bounded by that expanded size, so an alias bomb is refused
 *   before it is walked. Without aliases a document expands to at most a
 *   few units per character, so real manifests are far from the bound.
 * - Recursive aliases (inside the node they name) are refused: their
 *   expansion is infinite, and Kubernetes' decoder refuses them too.
 * - Anchors are found through a hash table: libyaml 0.2.5's loader
 *   compares each anchor with every earlier one (3 MB of 80 000 anchors
 *   took 40 s). Duplicate anchors stay an error, as in that loader. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "lint/ynode.h"

/* A small manifest may expand to 64 Ki units (a few thousand containers),
 * a large one to 16 units per character: several times what anchors and
 * merge keys in hand-written manifests reach. */
#define EXPAND_FLOOR ((size_t)64 << 10)
#define EXPAND_PER_CHAR 16

#define STR_(x) #x
#define STR(x) STR_(x)

struct anchor {
    char *name; /* owned; NULL for an empty slot */
    int node;
    size_t units; /* expanded size; 0 while the node is still open */
    yaml_mark_t mark;
};

/* Open addressing, linear probing; cap is a power of two, at most half full. */
struct anchors {
    struct anchor *slot;
    size_t cap, n;
};

struct frame {
    int node;
    int key;            /* a mapping's key waiting for its value, or 0 */
    size_t start_units; /* expanded units before this collection */
    const char *anchor; /* its anchor's name (owned by the table), or NULL */
};

struct loader {
    yaml_parser_t *p;
    yaml_document_t *doc;
    struct anchors anchors;
    struct frame stack[OOMKIT__YNODE_DEPTH_MAX];
    int depth;
    size_t units;     /* expanded size of the document so far */
    size_t doc_start; /* character index where the document starts */
};

static size_t hash(const char *s)
{
    return (size_t)oomkit__hash(s, strlen(s), 0);
}

static struct anchor *anchor_find(struct anchors *t, const char *name)
{
    if (t->cap == 0)
        return NULL;
    for (size_t i = hash(name) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slot[i].name == NULL || strcmp(t->slot[i].name, name) == 0)
            return &t->slot[i];
    }
}

static int anchors_grow(struct anchors *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct anchor *old = t->slot;
    size_t old_cap = t->cap;
    t->slot = oomkit__calloc(cap, sizeof(*t->slot));
    if (t->slot == NULL) {
        t->slot = old;
        return -ENOMEM;
    }
    t->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].name != NULL)
            *anchor_find(t, old[i].name) = old[i];
    }
    oomkit__free(old);
    return 0;
}

static void anchors_free(struct anchors *t)
{
    for (size_t i = 0; i < t->cap; i++)
        oomkit__free(t->slot[i].name);
    oomkit__free(t->slot);
}

/* Refuses the input: problem (a static string) at mark, as libyaml reports
 * its own errors. */
static int refuse(struct loader *l, int rc, const char *problem, yaml_mark_t mark)
{
    l->p->error = YAML_COMPOSER_ERROR;
    l->p->problem = problem;
    l->p->problem_mark = mark;
    l->p->context = NULL;
    return rc;
}

/* Records anchor name (if any) for node, whose expansion costs units
 * (0 for a collection until its end event says). */
static int add_anchor(struct loader *l, const yaml_char_t *name, int node, size_t units,
                      yaml_mark_t mark, const char **out)
{
    *out = NULL;
    if (name == NULL)
        return 0;
    if ((l->anchors.n + 1) * 2 > l->anchors.cap && anchors_grow(&l->anchors) != 0)
        return -ENOMEM;
    struct anchor *a = anchor_find(&l->anchors, (const char *)name);
    if (a->name != NULL) {
        l->p->context = "found duplicate anchor; first occurrence";
        l->p->context_mark = a->mark;
        l->p->error = YAML_COMPOSER_ERROR;
        l->p->problem = "second occurrence";
        l->p->problem_mark = mark;
        return -EINVAL;
    }
    size_t n = strlen((const char *)name);
    a->name = oomkit__malloc(n + 1);
    if (a->name == NULL)
        return -ENOMEM;
    memcpy(a->name, name, n + 1);
    a->node = node;
    a->units = units;
    a->mark = mark;
    l->anchors.n++;
    *out = a->name;
    return 0;
}

/* Adds units to the document's expanded size; -E2BIG past the bound. */
static int expand(struct loader *l, size_t units, yaml_mark_t mark)
{
    size_t chars = mark.index > l->doc_start ? mark.index - l->doc_start : 0;
    size_t max = chars > (SIZE_MAX - EXPAND_FLOOR) / EXPAND_PER_CHAR
                     ? SIZE_MAX
                     : EXPAND_FLOOR + chars * EXPAND_PER_CHAR;
    if (units > max - l->units)
        return refuse(l, -E2BIG, "too many alias expansions (a YAML alias bomb?)", mark);
    l->units += units;
    return 0;
}

/* Makes node the next item of the open collection, if any. */
static int attach(struct loader *l, int node)
{
    if (l->depth == 0)
        return 0;
    struct frame *f = &l->stack[l->depth - 1];
    yaml_node_t *parent = yaml_document_get_node(l->doc, f->node);
    int ok;
    if (parent->type == YAML_SEQUENCE_NODE) {
        ok = yaml_document_append_sequence_item(l->doc, f->node, node);
    } else if (f->key == 0) {
        f->key = node;
        ok = 1;
    } else {
        ok = yaml_document_append_mapping_pair(l->doc, f->node, f->key, node);
        f->key = 0;
    }
    return ok ? 0 : -ENOMEM;
}

/* libyaml's loader gives untagged and "!" nodes the default tag. */
static const yaml_char_t *tag_of(const yaml_char_t *tag)
{
    return tag != NULL && strcmp((const char *)tag, "!") != 0 ? tag : NULL;
}

static int on_event(struct loader *l, yaml_event_t *ev)
{
    int node, rc;
    const char *anchor;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.length > INT_MAX)
            return refuse(l, -E2BIG, "scalar longer than 2 GiB", ev->start_mark);
        /* Measured at its end: a long scalar pays for itself. */
        rc = expand(l, 1 + ev->data.scalar.length, ev->end_mark);
        if (rc != 0)
            return rc;
        node = yaml_document_add_scalar(l->doc, tag_of(ev->data.scalar.tag), ev->data.scalar.value,
                                        (int)ev->data.scalar.length, ev->data.scalar.style);
        if (node == 0)
            return -ENOMEM;
        rc = add_anchor(l, ev->data.scalar.anchor, node, 1 + ev->data.scalar.length,
                        ev->start_mark, &anchor);
        if (rc != 0)
            return rc;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (l->depth == OOMKIT__YNODE_DEPTH_MAX)
            return refuse(l, -E2BIG, "nesting deeper than " STR(OOMKIT__YNODE_DEPTH_MAX) " levels",
                          ev->start_mark);
        size_t start = l->units;
        rc = expand(l, 1, ev->start_mark);
        if (rc != 0)
            return rc;
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        node = seq ? yaml_document_add_sequence(l->doc, tag_of(ev->data.sequence_start.tag),
                                                ev->data.sequence_start.style)
                   : yaml_document_add_mapping(l->doc, tag_of(ev->data.mapping_start.tag),
                                               ev->data.mapping_start.style);
        if (node == 0)
            return -ENOMEM;
        rc = add_anchor(l, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor,
                        node, 0, ev->start_mark, &anchor);
        if (rc == 0)
            rc = attach(l, node);
        if (rc != 0)
            return rc;
        l->stack[l->depth++] = (struct frame){ node, 0, start, anchor };
        yaml_document_get_node(l->doc, node)->start_mark = ev->start_mark;
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        struct frame *f = &l->stack[--l->depth];
        yaml_document_get_node(l->doc, f->node)->end_mark = ev->end_mark;
        if (f->anchor != NULL)
            anchor_find(&l->anchors, f->anchor)->units = l->units - f->start_units;
        return 0;
    }
    case YAML_ALIAS_EVENT: {
        struct anchor *a = anchor_find(&l->anchors, (const char *)ev->data.alias.anchor);
        if (a == NULL || a->name == NULL)
            return refuse(l, -EINVAL, "found undefined alias", ev->start_mark);
        if (a->units == 0)
            return refuse(l, -E2BIG, "recursive alias: it is inside the node it refers to",
                          ev->start_mark);
        rc = expand(l, a->units, ev->start_mark);
        return rc != 0 ? rc : attach(l, a->node);
    }
    default:
        return 0;
    }
    yaml_node_t *n = yaml_document_get_node(l->doc, node);
    n->start_mark = ev->start_mark;
    n->end_mark = ev->end_mark;
    return attach(l, node);
}

int oomkit__ynode_load(yaml_parser_t *p, yaml_document_t *doc)
{
    memset(doc, 0, sizeof(*doc));
    yaml_event_t ev;
    if (!p->stream_start_produced) {
        if (!yaml_parser_parse(p, &ev))
            return p->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
        yaml_event_delete(&ev); /* STREAM-START */
    }
    if (p->stream_end_produced)
        return 0;
    if (!yaml_parser_parse(p, &ev))
        return p->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    /* Not calloc: only the stack's used part is ever read. */
    struct loader *l = oomkit__malloc(sizeof(*l));
    if (l == NULL || !yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
        oomkit__free(l);
        yaml_event_delete(&ev);
        return -ENOMEM;
    }
    l->p = p;
    l->doc = doc;
    l->anchors = (struct anchors){ NULL, 0, 0 };
    l->depth = 0;
    l->units = 0;
    l->doc_start = ev.start_mark.index;
    doc->start_mark = ev.start_mark;
    yaml_event_delete(&ev); /* DOCUMENT-START */
    int rc = 0;
    for (;;) {
        if (!yaml_parser_parse(p, &ev)) {
            rc = p->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
            break;
        }
        bool end = ev.type == YAML_DOCUMENT_END_EVENT;
        if (end)
            doc->end_mark = ev.end_mark;
        rc = on_event(l, &ev);
        yaml_event_delete(&ev);
        if (rc != 0 || end)
            break;
    }
    anchors_free(&l->anchors);
    oomkit__free(l);
    if (rc != 0) {
        yaml_document_delete(doc);
        memset(doc, 0, sizeof(*doc));
        return rc;
    }
    return 1;
}
