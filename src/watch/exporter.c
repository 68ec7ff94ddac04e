/* libmicrohttpd server for the /metrics endpoint (see exporter.h). */
#include "watch/exporter.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct oomkit__exporter {
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;  /* protects body and body_len */
    char *body;            /* owned */
    size_t body_len;
    _Atomic uint64_t scrapes;
    uint16_t port;
};

int oomkit__exporter_parse_addr(const char *addr, void *sa, unsigned *sa_len)
{
    if (addr == NULL)
        return -EINVAL;
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon[1] == '\0')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || errno || port > 65535)
        return -EINVAL;
    char host[64];
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    memset(sa, 0, sizeof(struct sockaddr_storage));
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        struct sockaddr_in6 *s6 = sa;
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
            return -EINVAL;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sa_len = sizeof *s6;
        return 0;
    }
    struct sockaddr_in *s4 = sa;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *sa_len = sizeof *s4;
    if (hlen == 0) {
        /* An empty host means loopback, never "all interfaces": exposing
         * the node's cgroup names must be a deliberate choice. */
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return 0;
    }
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
        return -EINVAL;
    return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size,
                              void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    struct oomkit__exporter *e = cls;
    struct MHD_Response *resp;
    unsigned status;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&e->lock);
        resp = MHD_create_response_from_buffer(e->body_len, e->body ? e->body : (void *)"",
                                               MHD_RESPMEM_MUST_COPY);
        pthread_mutex_unlock(&e->lock);
        if (resp != NULL)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "text/plain; version=0.0.4; charset=utf-8");
        atomic_fetch_add_explicit(&e->scrapes, 1, memory_order_relaxed);
        status = MHD_HTTP_OK;
    } else if (strcmp(url, "/") == 0) {
        static const char msg[] = "oomkit watch: metrics at /metrics\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_OK;
    } else {
        static const char msg[] = "not found\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

int oomkit__exporter_start(const char *addr, struct oomkit__exporter **out)
{
    struct sockaddr_storage ss;
    unsigned sa_len;
    int rc = oomkit__exporter_parse_addr(addr, &ss, &sa_len);
    if (rc != 0)
        return rc;
    struct oomkit__exporter *e = oomkit__calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    pthread_mutex_init(&e->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* A few connections and a small thread stack keep the daemon's own
     * footprint bounded however many scrapers appear. */
    errno = 0;
    e->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, e,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
                              MHD_OPTION_END);
    if (e->mhd == NULL) {
        int err = errno ? errno : EADDRINUSE;
        pthread_mutex_destroy(&e->lock);
        oomkit__free(e);
        return -err;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_BIND_PORT);
    e->port = info ? info->port : 0;
    *out = e;
    return 0;
}

uint16_t oomkit__exporter_port(const struct oomkit__exporter *e) { return e->port; }

uint64_t oomkit__exporter_scrapes(const struct oomkit__exporter *e)
{
    return atomic_load_explicit(&e->scrapes, memory_order_relaxed);
}

int oomkit__exporter_publish(struct oomkit__exporter *e, const char *text, size_t len)
{
    /* Copy outside the lock; swap pointers inside it. */
    char *copy = oomkit__malloc(len + 1);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&e->lock);
    char *old = e->body;
    e->body = copy;
    e->body_len = len;
    pthread_mutex_unlock(&e->lock);
    oomkit__free(old);
    return 0;
}

void oomkit__exporter_stop(struct oomkit__exporter *e)
{
    if (e == NULL)
        return;
    MHD_stop_daemon(e->mhd);
    pthread_mutex_destroy(&e->lock);
    oomkit__free(e->body);
    oomkit__free(e);
}
