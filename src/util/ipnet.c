/* ipnet.c - IP address and CIDR parsing and matching (inet_pton based). */
#include "ipnet.h"
#include "err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int ipnet_addr_parse(const char *s, uint8_t out[16])
{
    if (!s || strnlen(s, IPNET_MAX_TEXT + 1) > IPNET_MAX_TEXT)
        return RK_EINVAL;
    uint8_t v4[4];
    if (inet_pton(AF_INET, s, v4) == 1) {
        memcpy(out, V4_MAPPED, 12);
        memcpy(out + 12, v4, 4);
        return RK_OK;
    }
    return inet_pton(AF_INET6, s, out) == 1 ? RK_OK : RK_EINVAL;
}

int ipnet_parse(const char *s, ipnet *out)
{
    char buf[IPNET_MAX_TEXT + 1];
    if (!s || strnlen(s, sizeof buf) >= sizeof buf)
        return RK_EINVAL;
    memcpy(buf, s, strlen(s) + 1);
    char *slash = strchr(buf, '/');
    unsigned bits = 128;
    if (slash) {
        *slash = '\0';
        const char *b = slash + 1;
        size_t nd = strspn(b, "0123456789");
        if (nd == 0 || nd > 3 || b[nd] != '\0')
            return RK_EINVAL;
        bits = (unsigned)strtoul(b, NULL, 10);
    }
    ipnet n = {0};
    if (ipnet_addr_parse(buf, n.addr) != RK_OK)
        return RK_EINVAL;
    bool v4 = strchr(buf, ':') == NULL;
    if (v4 && slash) {
        if (bits > 32)
            return RK_EINVAL;
        bits += 96;
    }
    if (bits > 128)
        return RK_EINVAL;
    n.bits = bits;
    for (unsigned i = bits; i < 128; i++)
        n.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    *out = n;
    return RK_OK;
}

bool ipnet_contains(const ipnet *net, const uint8_t addr[16])
{
    unsigned full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (net->addr[full] & mask) == (addr[full] & mask);
}

void ipnet_addr_format(const uint8_t addr[16], char *out, size_t cap)
{
    if (memcmp(addr, V4_MAPPED, 12) == 0)
        snprintf(out, cap, "%u.%u.%u.%u", addr[12], addr[13], addr[14], addr[15]);
    else if (!inet_ntop(AF_INET6, addr, out, (socklen_t)cap))
        snprintf(out, cap, "unknown");
}
