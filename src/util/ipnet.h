/* ipnet.h - IP addresses and networks (CIDR) as 16-byte values: IPv4 is
 * held as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one comparison
 * serves both families. Used for trusted proxies and rate-limit keys. */
#ifndef RK_IPNET_H
#define RK_IPNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPNET_MAX_TEXT 64 /* longest address or CIDR text accepted, bytes */

/* A network: the address's first bits bits are significant (0..128; an
 * IPv4 /n is stored as /(96+n)). */
typedef struct ipnet {
    uint8_t addr[16];
    unsigned bits;
} ipnet;

/* ipnet_addr_parse reads a numeric IPv4 or IPv6 address (no brackets, no
 * zone) into out. RK_EINVAL when s is not one. */
int ipnet_addr_parse(const char *s, uint8_t out[16]);

/* ipnet_parse reads "ADDR" (a single host) or "ADDR/BITS" into *out; host
 * bits beyond the prefix are cleared. RK_EINVAL when malformed. */
int ipnet_parse(const char *s, ipnet *out);

/* ipnet_contains reports whether addr lies in net. */
bool ipnet_contains(const ipnet *net, const uint8_t addr[16]);

/* ipnet_addr_format writes addr as text (dotted quad for IPv4-mapped
 * addresses) into out (capacity cap >= 46). */
void ipnet_addr_format(const uint8_t addr[16], char *out, size_t cap);

#endif
