/* Small read-only helpers over libyaml's document tree (yaml_document_t):
 * mapping lookup that honours YAML merge keys (<<), scalar access and
 * source positions. Aliases need no help: libyaml's loader resolves them to
 * the anchored node, so an alias and its anchor are the same node here. */
#ifndef OOMKIT_LINT_YNODE_H
#define OOMKIT_LINT_YNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "oomkit/common.h"

/* The value under key in a mapping node, or NULL when node is not a
 * mapping or has no such key. Explicit keys win over merged ones; among
 * explicit duplicates the last wins (as Kubernetes' decoder does). Merge
 * keys are followed to a bounded depth, so alias cycles terminate. If
 * key_out is not NULL it receives the key node. Returned nodes are owned
 * by doc. Thread safety: reentrant. */
yaml_node_t *oomkit__ynode_get(yaml_document_t *doc, yaml_node_t *node, const char *key,
                               yaml_node_t **key_out);

/* The node at index (libyaml's 1-based node index), or NULL for 0 or an
 * index outside doc. Thread safety: reentrant. */
yaml_node_t *oomkit__ynode_at(yaml_document_t *doc, int index);

/* The bytes of a scalar node, owned by its document; {NULL, 0} for other
 * nodes and NULL. Thread safety: reentrant. */
oomkit_str oomkit__ynode_str(const yaml_node_t *node);

/* True for a missing node and for YAML nulls: an empty or "~"/"null" plain
 * scalar. Thread safety: reentrant. */
bool oomkit__ynode_is_null(const yaml_node_t *node);

/* True when node is a scalar whose bytes equal the C string s.
 * Thread safety: reentrant. */
bool oomkit__ynode_eq(const yaml_node_t *node, const char *s);

/* 1-based line and column of the node's start; 0 for NULL.
 * Thread safety: reentrant. */
unsigned oomkit__ynode_line(const yaml_node_t *node);
unsigned oomkit__ynode_column(const yaml_node_t *node);

#endif
