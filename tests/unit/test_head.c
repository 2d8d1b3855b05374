/* test_head.c - the request head's rules (src/http/head.c) and the
 * connection guard's per-IP cap (src/http/connguard.c). */
#include "../../src/http/connguard.h"
#include "../../src/http/head.h"
#include "../../src/util/err.h"
#include "check.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define F(n, v)                                                                                    \
    {                                                                                              \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                                         \
    }

static int fields(const head_field *f, size_t n, head_verdict *v, uint64_t *cl)
{
    *v = (head_verdict){0, NULL};
    return head_check_fields(f, n, 1000, cl, v);
}

static void test_fields(void)
{
    head_verdict v;
    uint64_t cl;
    head_field ok[] = {F("Host", "a"), F("Content-Length", "17"), F("X-A", "b\tc d\x80")};
    CHECK(fields(ok, 3, &v, &cl) == RK_OK && cl == 17);
    head_field none[] = {F("Host", "a")};
    CHECK(fields(none, 1, &v, &cl) == RK_OK && cl == UINT64_MAX);
    head_field chunked[] = {F("Transfer-Encoding", "Chunked")};
    CHECK(fields(chunked, 1, &v, &cl) == RK_OK);

    const struct {
        head_field f[2];
        size_t n;
        int status;
    } bad[] = {
        {{F("Content-Length", "17"), F("content-length", "0")}, 2, 400},
        {{F("Content-Length", "17"), F("Content-Length", "17")}, 2, 400},
        {{F("Transfer-Encoding", "chunked"), F("Content-Length", "5")}, 2, 400},
        {{F("Transfer-Encoding", "chunked"), F("Transfer-Encoding", "chunked")}, 2, 400},
        {{F("Transfer-Encoding", "xchunked")}, 1, 501},
        {{F("Transfer-Encoding", "chunked, identity")}, 1, 501},
        {{F("Content-Length", "17, 17")}, 1, 400},
        {{F("Content-Length", "+17")}, 1, 400},
        {{F("Content-Length", "-1")}, 1, 400},
        {{F("Content-Length", "0x11")}, 1, 400},
        {{F("Content-Length", "")}, 1, 400},
        {{F("Content-Length", "1001")}, 1, 413},
        {{F("Content-Length", "99999999999999999999999")}, 1, 413},
        {{F("Host", "a"), F("host", "b")}, 2, 400},
        {{F("Authorization", "Bearer a"), F("authorization", "Bearer b")}, 2, 400},
        {{F("X-API-Key", "a"), F("x-api-key", "a")}, 2, 400},
        {{F("X A", "b")}, 1, 400},
        {{F("X-A ", "b")}, 1, 400},
        {{F("", "b")}, 1, 400},
        {{F("X-A", "b\rc")}, 1, 400},
        {{F("X-A", "b\nc")}, 1, 400},
        {{F("X-A", "b\x7f")}, 1, 400},
        {{{"X-A", 3, "b\0c", 3}}, 1, 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = fields(bad[i].f, bad[i].n, &v, &cl);
        CHECK(rc == RK_EINVAL && v.status == bad[i].status && v.message);
        if (rc != RK_EINVAL || v.status != bad[i].status)
            fprintf(stderr, "  case %zu: rc %d status %d\n", i, rc, v.status);
    }
}

static void test_method(void)
{
    head_verdict v = {0, NULL};
    CHECK(head_check_method("GET", &v) == RK_OK);
    CHECK(head_check_method("M-SEARCH", &v) == RK_OK);
    CHECK(head_check_method("OPTIONS", &v) == RK_OK);
    const char *bad[] = {
        "",      "X\"",   "X\",\"a\":1,\"b\":\"", "G T",
        "GET\t", "G\x7f", "G\xc3\xa9T",           "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"}; /* 33 */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = (head_verdict){0, NULL};
        CHECK(head_check_method(bad[i], &v) == RK_EINVAL && v.status == 400);
    }
    char longest[HEAD_MAX_METHOD + 1];
    memset(longest, 'A', HEAD_MAX_METHOD);
    longest[HEAD_MAX_METHOD] = '\0';
    CHECK(head_check_method(longest, &v) == RK_OK);
}

static void test_target(void)
{
    head_verdict v;
    CHECK(head_check_target("/a/b?c=d%20e", 12, &v) == RK_OK);
    CHECK(head_check_target("/a/%0", 5, &v) == RK_OK);
    CHECK(head_check_target("/a/%01", 6, &v) == RK_OK);
    CHECK(head_check_target("/a%00", 5, &v) == RK_EINVAL && v.status == 400);
    CHECK(head_check_target("/a?x=%00", 8, &v) == RK_EINVAL);
    CHECK(head_check_target("/a\0b", 4, &v) == RK_EINVAL);
}

/* open_pair returns one end of a fresh socket pair (the other is closed
 * with it by the caller through *peer). */
static int open_pair(int *peer)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -1;
    *peer = sv[1];
    return sv[0];
}

static void test_guard(void)
{
    connguard *g = NULL;
    static const char refusal[] = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
    connguard_limits lim = {.per_ip = 2, .refusal = refusal, .refusal_len = sizeof refusal - 1};
    CHECK(connguard_new(&lim, &g) == RK_OK);
    uint8_t a[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1}, b[16] = {[15] = 1};
    int fd[4], peer[4] = {-1, -1, -1, -1};
    connguard_conn *c[4];
    for (int i = 0; i < 4; i++)
        fd[i] = open_pair(&peer[i]);
    CHECK(connguard_open(g, fd[0], a, false, &c[0]) == RK_OK);
    CHECK(connguard_open(g, fd[1], a, false, &c[1]) == RK_OK);
    CHECK(connguard_open(g, fd[2], a, false, &c[2]) == RK_ELIMITED); /* a third from a */
    char got[64];
    /* the refusal, then the end: the socket was shut down after it */
    CHECK(read(peer[2], got, sizeof got) == (ssize_t)(sizeof refusal - 1));
    CHECK(memcmp(got, refusal, sizeof refusal - 1) == 0);
    CHECK(read(peer[2], got, 1) == 0);
    CHECK(recv(peer[0], got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN); /* kept: nothing sent */
    CHECK(connguard_open(g, fd[3], b, false, &c[3]) == RK_OK);         /* b is counted apart */
    connguard_close(g, c[2]);
    connguard_close(g, c[0]);
    connguard_conn *again = NULL;
    int fd5, peer5 = -1;
    fd5 = open_pair(&peer5);
    CHECK(connguard_open(g, fd5, a, false, &again) == RK_OK); /* a slot came free */
    connguard_close(g, again);
    connguard_close(g, c[1]);
    connguard_close(g, c[3]);
    connguard_free(g);
    for (int i = 0; i < 4; i++) {
        close(fd[i]);
        close(peer[i]);
    }
    close(fd5);
    close(peer5);
}

int main(void)
{
    test_fields();
    test_method();
    test_target();
    test_guard();
    return check_summary();
}
