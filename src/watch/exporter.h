/* The /metrics endpoint of `oomkit watch` (libmicrohttpd).
 *
 * The sampling loop never waits for a scrape: after each sample it renders
 * the exposition (metrics.h) and publishes a copy here; the HTTP thread
 * serves the latest published copy under a mutex held only for a memcpy.
 * Default address: loopback 127.0.0.1:9464, since the figures name cgroups
 * and commands of the node. */
#ifndef OOMKIT_WATCH_EXPORTER_H
#define OOMKIT_WATCH_EXPORTER_H

#include <stddef.h>
#include <stdint.h>

struct oomkit__exporter;

#define OOMKIT__EXPORTER_DEFAULT_ADDR "127.0.0.1:9464"

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback) into a socket
 * address (sa must hold a struct sockaddr_storage; *sa_len set). Port 0
 * picks a free port. Returns 0 or -EINVAL. Thread safety: pure. */
int oomkit__exporter_parse_addr(const char *addr, void *sa, unsigned *sa_len);

/* Starts serving on addr (borrowed). *out is owned by the caller until
 * oomkit__exporter_stop. Returns 0, -EINVAL for a bad address, -EADDRINUSE
 * or another negative errno when the socket cannot be bound.
 * Thread safety: any thread. */
int oomkit__exporter_start(const char *addr, struct oomkit__exporter **out);

/* The port actually bound (useful after port 0). Thread safety: any. */
uint16_t oomkit__exporter_port(const struct oomkit__exporter *e);

/* Publishes text[0..len) (borrowed; copied) as the next /metrics body.
 * Returns 0 or -ENOMEM (the previous body stays).
 * Thread safety: any thread; serialised with the HTTP thread. */
int oomkit__exporter_publish(struct oomkit__exporter *e, const char *text, size_t len);

/* Number of /metrics requests served. Thread safety: any thread. */
uint64_t oomkit__exporter_scrapes(const struct oomkit__exporter *e);

/* Stops the HTTP thread and frees e; NULL is a no-op.
 * Thread safety: not concurrently with other calls on e. */
void oomkit__exporter_stop(struct oomkit__exporter *e);

#endif
