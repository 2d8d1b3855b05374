/* clientip.h - which address a request comes from: the TCP peer, or, when
 * the peer is a trusted proxy, the address that proxy reports in
 * X-Forwarded-For.
 *
 * X-Forwarded-For lists addresses left (original client) to right (the
 * last proxy's peer); each proxy appends the address it saw. Only the part
 * written by trusted proxies can be believed, so the list is read from the
 * right: the first address that is not a trusted proxy is the client. A
 * malformed element stops the walk (the last address read is kept). With
 * no trusted proxies configured (the default) the header is ignored. */
#ifndef RK_CLIENTIP_H
#define RK_CLIENTIP_H

#include "../util/ipnet.h"

#include <stddef.h>
#include <stdint.h>

#define CLIENTIP_MAX_HOPS 32 /* X-Forwarded-For elements read at most */

/* clientip_resolve sets out to the client's address. peer is the TCP
 * peer; xff[0..n_xff) are the X-Forwarded-For header values in the order
 * received (several headers form one list); trusted[0..n_trusted) are the
 * trusted proxies' networks. */
void clientip_resolve(const uint8_t peer[16], const ipnet *trusted, size_t n_trusted,
                      const char *const *xff, size_t n_xff, uint8_t out[16]);

#endif
