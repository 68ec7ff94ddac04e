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

/* The node at index, or NULL. */
yaml_node_t *oomkit__ynode_at(yaml_document_t *doc, int index);

/* The bytes of a scalar node; {NULL, 0} for other nodes. */
oomkit_str oomkit__ynode_str(const yaml_node_t *node);

/* True for a missing node and for YAML nulls: an empty or "~"/"null" plain
 * scalar. */
bool oomkit__ynode_is_null(const yaml_node_t *node);

/* True when node is a scalar whose bytes equal s. */
bool oomkit__ynode_eq(const yaml_node_t *node, const char *s);

/* 1-based line and column of the node's start. */
unsigned oomkit__ynode_line(const yaml_node_t *node);
unsigned oomkit__ynode_column(const yaml_node_t *node);

#endif
