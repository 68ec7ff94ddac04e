/* libFuzzer target: the `oomkit watch` config parser and listen-address
 * parser on arbitrary bytes. Properties: no crash, no out-of-bounds, and a
 * parse that succeeds leaves every setting within its documented range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "watch/daemon.h"
#include "watch/exporter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oomkit__watch_config c;
    char err[512];
    oomkit__watch_config_default(&c);
    if (oomkit__watch_config_parse(&c, (const char *)data, size, "fuzz", err, sizeof err) == 0) {
        if (c.interval_s < 0.01 || c.interval_s > 3600)
            abort();
        if (!(c.warn_ratio > 0 && c.warn_ratio <= 1) || !(c.critical_ratio > 0 && c.critical_ratio <= 1))
            abort();
        if (c.window < 2 || c.window > 120 || c.capture_max_bytes < 65536)
            abort();
        if (memchr(c.path, '\0', sizeof c.path) == NULL || memchr(c.listen, '\0', sizeof c.listen) == NULL)
            abort();
    } else if (memchr(err, '\0', sizeof err) == NULL) {
        abort();
    }
    char addr[256];
    size_t n = size < sizeof addr - 1 ? size : sizeof addr - 1;
    memcpy(addr, data, n);
    addr[n] = '\0';
    struct sockaddr_storage ss;
    unsigned len = 0;
    if (oomkit__exporter_parse_addr(addr, &ss, &len) == 0 && (len == 0 || len > sizeof ss))
        abort();
    return 0;
}
