/* Small helpers over libyaml's document tree (yaml_document_t): a bounded
 * loader (yload.c), mapping lookup that honours YAML merge keys (<<),
 * scalar access and source positions. Aliases need no help: the loader
 * resolves them to the anchored node, so an alias and its anchor are the
 * same node here. */
#ifndef OOMKIT_LINT_YNODE_H
#define OOMKIT_LINT_YNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "oomkit/common.h"

/* Open collections a document may nest. Kubernetes objects are a few
 * dozen levels deep at most. A plain number: messages spell it out. */
#define OOMKIT__YNODE_DEPTH_MAX 512

/* Loads the next document of parser's stream into doc, as
 * yaml_parser_load does, within the bounds described in yload.c. Returns
 * 1 with a document (free it with yaml_document_delete); 0 at the end of
 * the stream (doc empty); -EINVAL for invalid YAML and -E2BIG for input
 * over a bound, both with parser->problem, problem_mark (and context for
 * some) describing it; -ENOMEM. After an error doc is empty and the
 * parser must not be used again. Thread safety: reentrant; one parser per
 * thread. */
int oomkit__ynode_load(yaml_parser_t *parser, yaml_document_t *doc);

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
