/* Read-only helpers over libyaml's document tree (see ynode.h). */
#include "lint/ynode.h"

#include <string.h>

/* Merge keys may nest, and an alias may name the same map many times;
 * the loader (yload.c) refuses an alias inside the node it names, and
 * these bounds keep a lookup small whatever the tree. */
#define MERGE_DEPTH_MAX 8
#define MERGE_VISITS_MAX 64

yaml_node_t *oomkit__ynode_at(yaml_document_t *doc, int index)
{
    return index > 0 ? yaml_document_get_node(doc, index) : NULL;
}

oomkit_str oomkit__ynode_str(const yaml_node_t *node)
{
    oomkit_str s = { NULL, 0 };
    if (node != NULL && node->type == YAML_SCALAR_NODE) {
        s.ptr = (const char *)node->data.scalar.value;
        s.len = node->data.scalar.length;
    }
    return s;
}

bool oomkit__ynode_eq(const yaml_node_t *node, const char *s)
{
    oomkit_str v = oomkit__ynode_str(node);
    size_t n = strlen(s);
    return v.ptr != NULL && v.len == n && memcmp(v.ptr, s, n) == 0;
}

bool oomkit__ynode_is_null(const yaml_node_t *node)
{
    if (node == NULL)
        return true;
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    oomkit_str v = oomkit__ynode_str(node);
    static const char *nulls[] = { "", "~", "null", "Null", "NULL" };
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (v.len == strlen(nulls[i]) && memcmp(v.ptr, nulls[i], v.len) == 0)
            return true;
    }
    return false;
}

static bool is_merge_key(const yaml_node_t *k)
{
    return k != NULL && k->type == YAML_SCALAR_NODE &&
           k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && oomkit__ynode_eq(k, "<<");
}

static yaml_node_t *get_rec(yaml_document_t *doc, yaml_node_t *node, const char *key,
                            yaml_node_t **key_out, int depth, int *visits)
{
    if (node == NULL || node->type != YAML_MAPPING_NODE || depth > MERGE_DEPTH_MAX ||
        ++*visits > MERGE_VISITS_MAX)
        return NULL;
    yaml_node_t *found = NULL, *found_key = NULL;
    bool has_merge = false;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = oomkit__ynode_at(doc, p->key);
        if (oomkit__ynode_eq(k, key) && !is_merge_key(k)) {
            found = oomkit__ynode_at(doc, p->value);
            found_key = k;
        } else if (is_merge_key(k)) {
            has_merge = true;
        }
    }
    if (found == NULL && has_merge) {
        /* YAML 1.1 merge: a mapping, or a sequence of mappings where the
         * earlier ones win. */
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
             found == NULL && p < node->data.mapping.pairs.top; p++) {
            if (!is_merge_key(oomkit__ynode_at(doc, p->key)))
                continue;
            yaml_node_t *v = oomkit__ynode_at(doc, p->value);
            if (v == NULL)
                continue;
            if (v->type == YAML_MAPPING_NODE) {
                found = get_rec(doc, v, key, &found_key, depth + 1, visits);
            } else if (v->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = v->data.sequence.items.start;
                     found == NULL && it < v->data.sequence.items.top; it++)
                    found = get_rec(doc, oomkit__ynode_at(doc, *it), key, &found_key, depth + 1,
                                    visits);
            }
        }
    }
    if (found != NULL && key_out != NULL)
        *key_out = found_key;
    return found;
}

yaml_node_t *oomkit__ynode_get(yaml_document_t *doc, yaml_node_t *node, const char *key,
                               yaml_node_t **key_out)
{
    int visits = 0;
    return get_rec(doc, node, key, key_out, 0, &visits);
}

unsigned oomkit__ynode_line(const yaml_node_t *node)
{
    return node != NULL ? (unsigned)node->start_mark.line + 1 : 0;
}

unsigned oomkit__ynode_column(const yaml_node_t *node)
{
    return node != NULL ? (unsigned)node->start_mark.column + 1 : 0;
}
