/* test_util.c - base64url, UTF-8, JSON writer and duration parsing. */
#include "check.h"
#include "util/b64url.h"
#include "util/clock.h"
#include "util/curl_lib.h"
#include "util/dlist.h"
#include "util/duration.h"
#include "util/dynlib.h"
#include "util/err.h"
#include "util/growbuf.h"
#include "util/jsonw.h"
#include "util/jws.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/text.h"
#include "util/utf8.h"

#include <fcntl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *enc(const char *s)
{
    static char out[256];
    size_t n;
    if (b64url_encode((const uint8_t *)s, strlen(s), out, sizeof out, &n))
        return "(error)";
    return out;
}

static int dec(const char *s, char *out, size_t cap)
{
    size_t n;
    int rc = b64url_decode(s, strlen(s), (uint8_t *)out, cap - 1, &n);
    if (rc == RK_OK)
        out[n] = '\0';
    return rc;
}

static void test_b64url(void)
{
    /* RFC 4648 section 10 vectors, unpadded. */
    CHECK_STR(enc(""), "");
    CHECK_STR(enc("f"), "Zg");
    CHECK_STR(enc("fo"), "Zm8");
    CHECK_STR(enc("foo"), "Zm9v");
    CHECK_STR(enc("foob"), "Zm9vYg");
    CHECK_STR(enc("fooba"), "Zm9vYmE");
    CHECK_STR(enc("foobar"), "Zm9vYmFy");
    /* URL-safe alphabet: 0xfb 0xff -> "-_8" */
    CHECK_STR(enc("\xfb\xff"), "-_8");

    char out[64];
    CHECK(dec("Zm9vYmFy", out, sizeof out) == RK_OK);
    CHECK_STR(out, "foobar");
    CHECK(dec("Zm9vYg", out, sizeof out) == RK_OK);
    CHECK_STR(out, "foob");
    CHECK(dec("-_8", out, sizeof out) == RK_OK);
    CHECK(memcmp(out, "\xfb\xff", 2) == 0);
    /* strictness */
    CHECK(dec("Zm9vYg==", out, sizeof out) == RK_EINVAL); /* padding */
    CHECK(dec("Zm9vY", out, sizeof out) == RK_EINVAL);    /* length 1 mod 4 */
    CHECK(dec("Zm9v+/", out, sizeof out) == RK_EINVAL);   /* standard alphabet */
    CHECK(dec("Zm9 v", out, sizeof out) == RK_EINVAL);    /* white space */
    CHECK(dec("Zh", out, sizeof out) == RK_EINVAL);       /* unused bits set ("Zg" canonical) */
    CHECK(dec("Zm9", out, sizeof out) == RK_EINVAL);      /* unused bits set ("Zm8") */
    CHECK(dec("Zm8", out, sizeof out) == RK_OK);
    char nul[] = {'Z', 'g', 0, 'A'};
    size_t n;
    CHECK(b64url_decode(nul, 4, (uint8_t *)out, sizeof out, &n) == RK_EINVAL);
    /* capacity limits */
    CHECK(b64url_decode("Zm9vYmFy", 8, (uint8_t *)out, 5, &n) == RK_ETOOBIG);
    char small[4];
    CHECK(b64url_encode((const uint8_t *)"foo", 3, small, 4, &n) == RK_ETOOBIG);
    CHECK(b64url_encode((const uint8_t *)"foo", 3, out, 5, &n) == RK_OK && n == 4);
    /* round trip of every byte value */
    uint8_t all[256], back[256];
    char text[400];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    CHECK(b64url_encode(all, 256, text, sizeof text, &n) == RK_OK);
    CHECK(n == B64URL_ENCODED_LEN(256));
    CHECK(b64url_decode(text, n, back, sizeof back, &n) == RK_OK && n == 256);
    CHECK(memcmp(all, back, 256) == 0);
    /* every length 0..70 (each tail of the 6-byte steps) against OpenSSL's
     * base64, made URL-safe and unpadded */
    int same = 0;
    for (size_t len = 0; len <= 70; len++) {
        char want[128], got[128];
        int w = EVP_EncodeBlock((unsigned char *)want, all + 256 - len, (int)len);
        while (w > 0 && want[w - 1] == '=')
            w--;
        want[w] = '\0';
        for (int i = 0; i < w; i++)
            want[i] = want[i] == '+' ? '-' : want[i] == '/' ? '_' : want[i];
        same += b64url_encode(all + 256 - len, len, got, sizeof got, &n) == RK_OK &&
                n == (size_t)w && strcmp(got, want) == 0;
    }
    CHECK(same == 71);
    /* random bytes, every length 0..299 several times (the vector steps of
     * 24 bytes where the CPU has them, then the 6- and 3-byte ones), every
     * character of the alphabet, against OpenSSL's base64 likewise */
    same = 0;
    srand(7);
    for (int round = 0; round < 3000; round++) {
        uint8_t in[300];
        char want[420], got[420];
        size_t len = (size_t)round % 300;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rand();
        int w = EVP_EncodeBlock((unsigned char *)want, in, (int)len);
        while (w > 0 && want[w - 1] == '=')
            w--;
        want[w] = '\0';
        for (int i = 0; i < w; i++)
            want[i] = want[i] == '+' ? '-' : want[i] == '/' ? '_' : want[i];
        same += b64url_encode(in, len, got, sizeof got, &n) == RK_OK && n == (size_t)w &&
                strcmp(got, want) == 0;
    }
    CHECK(same == 3000);
}

/* Characters that could drive a terminal or reorder a line, and their
 * neighbours that cannot. */
static void test_utf8_unsafe(void)
{
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"\x01", 1},
        {"\x1b[", 1},
        {"\x1f", 1},
        {"\x7f", 1},
        {"\xc2\x80", 2},
        {"\xc2\x9f", 2},
        {"\xd8\x9c", 2},
        {"\xe2\x80\x8e", 3},
        {"\xe2\x80\x8f", 3},
        {"\xe2\x80\xaa", 3},
        {"\xe2\x80\xae", 3},
        {"\xe2\x81\xa6", 3},
        {"\xe2\x81\xa9", 3},
        {" ", 0},
        {"~", 0},
        {"\xc2\xa0", 0},
        {"\xc3\xa9", 0},
        {"\xd8\x9b", 0},
        {"\xe2\x80\x8d", 0},
        {"\xe2\x80\xaf", 0},
        {"\xe2\x81\xa5", 0},
        {"\xe2\x81\xaa", 0},
        {"\xe2\x82\xac", 0},
        {"", 0},
        {"\xe2", 0},
        {"\xe2\x80", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(utf8_unsafe_len(cases[i].s) == cases[i].len);
    CHECK(utf8_has_unsafe("admin\xe2\x80\xae"));
    CHECK(utf8_has_unsafe("\x1b]0;x"));
    CHECK(!utf8_has_unsafe("zo\xc3\xab-\xe5\x90\x8d"));
    CHECK(!utf8_has_unsafe(""));
}

static void test_utf8(void)
{
    CHECK(utf8_valid("hello", 5));
    CHECK(utf8_valid("\xc3\xa9", 2));          /* é */
    CHECK(utf8_valid("\xe2\x82\xac", 3));      /* € */
    CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));  /* 😀 */
    CHECK(!utf8_valid("\xc3", 1));             /* truncated */
    CHECK(!utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate U+D800 */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\x80", 1));      /* lone continuation */
    CHECK(!utf8_valid("a\xe2\x82", 3)); /* truncated at end */
}

static void test_jsonw(void)
{
    char buf[256];
    jsonw w;
    jsonw_init(&w, buf, sizeof buf);
    jsonw_obj_open(&w);
    jsonw_key(&w, "name");
    jsonw_str(&w, "\",\"video\":{\"roomAdmin\":true},\"x\":\"");
    jsonw_key(&w, "ctl");
    jsonw_str(&w, "a\\b\n\t\x01\x1f/");
    jsonw_key(&w, "n");
    jsonw_int(&w, -9223372036854775807LL - 1);
    jsonw_key(&w, "b");
    jsonw_bool(&w, false);
    jsonw_key(&w, "arr");
    jsonw_arr_open(&w);
    jsonw_int(&w, 1);
    jsonw_int(&w, 2);
    jsonw_arr_close(&w);
    jsonw_obj_close(&w);
    CHECK(w.err == RK_OK);
    /* The output parses and the hostile string stays one string value. */
    json_error_t e;
    json_t *v = json_loads(buf, JSON_REJECT_DUPLICATES, &e);
    CHECK(v != NULL);
    CHECK_STR(json_string_value(json_object_get(v, "name")),
              "\",\"video\":{\"roomAdmin\":true},\"x\":\"");
    CHECK_STR(json_string_value(json_object_get(v, "ctl")), "a\\b\n\t\x01\x1f/");
    CHECK(json_object_get(v, "video") == NULL);
    CHECK(json_integer_value(json_object_get(v, "n")) == INT64_MIN);
    CHECK(json_object_size(v) == 5);
    json_decref(v);
    CHECK(strstr(buf, "\\u0001") != NULL);

    /* invalid UTF-8 latches RK_EINVAL */
    jsonw_init(&w, buf, sizeof buf);
    jsonw_str(&w, "ok\xc3");
    CHECK(w.err == RK_EINVAL);
    jsonw_init(&w, buf, sizeof buf);
    jsonw_key(&w, "\xff");
    CHECK(w.err == RK_EINVAL);

    /* hard capacity: never writes past cap, latches RK_ETOOBIG */
    char tiny[8];
    memset(tiny, 'Z', sizeof tiny);
    jsonw_init(&w, tiny, 6);
    jsonw_str(&w, "abcdef");
    CHECK(w.err == RK_ETOOBIG);
    CHECK(tiny[6] == 'Z' && tiny[7] == 'Z');
    CHECK(w.len < 6);

    /* every escape, written exactly: the short forms, else \u00XX */
    jsonw_init(&w, buf, sizeof buf);
    jsonw_arr_open(&w);
    jsonw_str(&w, "\"\\\n\r\t\b\f\x01\x1f\x7f/");
    jsonw_obj_open(&w);
    jsonw_obj_close(&w);
    jsonw_arr_close(&w);
    CHECK(w.err == RK_OK);
    CHECK_STR(buf, "[\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/\",{}]");
}

static void test_growbuf(void)
{
    growbuf b = {.max = 3000};
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    CHECK(growbuf_append(&b, chunk, sizeof chunk) == RK_OK);
    CHECK(growbuf_append(&b, chunk, sizeof chunk) == RK_OK);
    CHECK(b.len == 2000 && b.buf[2000] == '\0' && b.cap <= b.max + 1);
    /* past the limit: refused, nothing added */
    CHECK(growbuf_append(&b, chunk, 1001) == RK_ETOOBIG);
    CHECK(b.len == 2000 && b.buf[2000] == '\0');
    CHECK(growbuf_append(&b, chunk, 1000) == RK_OK);
    CHECK(b.len == 3000 && b.cap == 3001 && b.buf[3000] == '\0');
    CHECK(growbuf_append(&b, "x", 1) == RK_ETOOBIG);
    CHECK(growbuf_append(&b, "", 0) == RK_OK);
    growbuf_free(&b);
    CHECK(b.buf == NULL && b.len == 0 && b.cap == 0 && b.max == 3000);
}

static void test_dlist(void)
{
    dlist_node a, b, c, *head = NULL;
    dlist_push(&head, &a);
    dlist_push(&head, &b);
    dlist_push(&head, &c); /* c b a */
    CHECK(head == &c && c.next == &b && b.next == &a && a.next == NULL && a.prev == &b);
    dlist_unlink(&head, &b); /* c a */
    CHECK(head == &c && c.next == &a && a.prev == &c);
    dlist_unlink(&head, &c); /* a */
    CHECK(head == &a && a.prev == NULL && a.next == NULL);
    dlist_unlink(&head, &a);
    CHECK(head == NULL);
}

static void test_duration(void)
{
    int64_t ns, s;
    CHECK(duration_parse("90s", &ns) == RK_OK && ns == 90000000000LL);
    CHECK(duration_parse("10m", &ns) == RK_OK && ns == 600000000000LL);
    CHECK(duration_parse_seconds("1h30m", &s) == RK_OK && s == 5400);
    CHECK(duration_parse_seconds("1.5h", &s) == RK_OK && s == 5400);
    CHECK(duration_parse_seconds("2h45m30s", &s) == RK_OK && s == 9930);
    CHECK(duration_parse("300ms", &ns) == RK_OK && ns == 300000000LL);
    CHECK(duration_parse("1us", &ns) == RK_OK && ns == 1000);
    CHECK(duration_parse("1\xc2\xb5s", &ns) == RK_OK && ns == 1000);
    CHECK(duration_parse("5ns", &ns) == RK_OK && ns == 5);
    CHECK(duration_parse("0", &ns) == RK_OK && ns == 0);
    CHECK(duration_parse_seconds("3600", &s) == RK_OK && s == 3600); /* bare seconds */
    CHECK(duration_parse_seconds(".5m", &s) == RK_OK && s == 30);
    CHECK(duration_parse("", &ns) == RK_EINVAL);
    CHECK(duration_parse("-5m", &ns) == RK_EINVAL);
    CHECK(duration_parse("5", &ns) == RK_OK);
    CHECK(duration_parse("5x", &ns) == RK_EINVAL);
    CHECK(duration_parse("h", &ns) == RK_EINVAL);
    CHECK(duration_parse("1h 30m", &ns) == RK_EINVAL);
    CHECK(duration_parse(".s", &ns) == RK_EINVAL);
    CHECK(duration_parse("9999999999999h", &ns) == RK_ETOOBIG);
    CHECK(duration_parse("99999999999999999999s", &ns) == RK_ETOOBIG);
    CHECK(duration_parse("2562047h47m16s", &ns) == RK_OK); /* just under INT64_MAX ns */
    CHECK(duration_parse("2562048h", &ns) == RK_ETOOBIG);
    CHECK(duration_parse_seconds("500ms", &s) == RK_EINVAL); /* under a second */
    CHECK(duration_parse_seconds("0s", &s) == RK_EINVAL);
    char longtext[DURATION_MAX_TEXT + 2];
    memset(longtext, '1', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    CHECK(duration_parse(longtext, &ns) == RK_ETOOBIG);
}

static void test_clock(void)
{
    char out[CLOCK_ISO_LEN];
    CHECK(clock_iso8601(1704117600, out, sizeof out) == RK_OK);
    CHECK_STR(out, "2024-01-01T14:00:00.000Z");
    CHECK(clock_iso8601(0, out, sizeof out) == RK_OK);
    CHECK_STR(out, "1970-01-01T00:00:00.000Z");
    CHECK(clock_iso8601(-1, out, sizeof out) == RK_EINVAL);
    CHECK(clock_iso8601(1, out, 10) == RK_ETOOBIG);
    /* the per-thread last answer: same second again, then a different one,
     * then back (each must be its own second, not the remembered one) */
    CHECK(clock_iso8601(1704117600, out, sizeof out) == RK_OK);
    CHECK(clock_iso8601(1704117600, out, sizeof out) == RK_OK);
    CHECK_STR(out, "2024-01-01T14:00:00.000Z");
    CHECK(clock_iso8601(1704117601, out, sizeof out) == RK_OK);
    CHECK_STR(out, "2024-01-01T14:00:01.000Z");
    CHECK(clock_iso8601(1704117600, out, sizeof out) == RK_OK);
    CHECK_STR(out, "2024-01-01T14:00:00.000Z");
    /* the two remembered seconds, alternating (a log line's now and a
     * token's expiry), then a third second that replaces one of them:
     * every answer must be its own second */
    static const struct {
        int64_t t;
        const char *want;
    } seq[] = {
        {1704117600, "2024-01-01T14:00:00.000Z"}, {1704139200, "2024-01-01T20:00:00.000Z"},
        {1704117600, "2024-01-01T14:00:00.000Z"}, {1704139200, "2024-01-01T20:00:00.000Z"},
        {1704117602, "2024-01-01T14:00:02.000Z"}, {1704117600, "2024-01-01T14:00:00.000Z"},
        {1704139200, "2024-01-01T20:00:00.000Z"}, {1704117602, "2024-01-01T14:00:02.000Z"},
    };
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        CHECK(clock_iso8601(seq[i].t, out, sizeof out) == RK_OK);
        CHECK_STR(out, seq[i].want);
    }
    CHECK(clock_iso8601(253402300799LL, out, sizeof out) == RK_OK);
    CHECK_STR(out, "9999-12-31T23:59:59.000Z");
    CHECK(clock_now() > 1700000000);
    /* clock_parse_date: a day (its midnight UTC) or a UTC time */
    int64_t t = -1;
    CHECK(clock_parse_date("2024-01-01", &t) == RK_OK && t == 1704067200);
    CHECK(clock_parse_date("2024-01-01T14:00:00Z", &t) == RK_OK && t == 1704117600);
    CHECK(clock_parse_date("2024-01-01T14:00:00.250Z", &t) == RK_OK && t == 1704117600);
    CHECK(clock_parse_date("2024-02-29", &t) == RK_OK && t == 1709164800);
    CHECK(clock_parse_date("1970-01-01", &t) == RK_OK && t == 0);
    static const char *const bad[] = {"",
                                      "2024-1-01",
                                      "2024-01-01T14:00:00",
                                      "2023-02-29",
                                      "2024-04-31",
                                      "2024-13-01",
                                      "1969-12-31",
                                      "2024-01-01 ",
                                      "2024-01-01T24:00:00Z",
                                      "1704067200",
                                      "2024-01-01T14:00Z",
                                      "+024-01-01",
                                      "2024-01-00",
                                      "2024-01-01T14:00:00+01:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(clock_parse_date(bad[i], &t) == RK_EINVAL);
}

/* Libraries loaded at run time: a missing one is an error that names it
 * and its Debian package; a present one gives its functions. */
static void test_dynlib(void)
{
    char why[256] = "";
    void *h = NULL;
    CHECK(dynlib_open("libroomkey-missing.so.9", "roomkey-missing9", &h, why, sizeof why) ==
          RK_EIO);
    CHECK(h == NULL);
    CHECK(strstr(why, "libroomkey-missing.so.9 could not be loaded") != NULL);
    CHECK(strstr(why, "Debian package roomkey-missing9") != NULL);
    CHECK(dynlib_open("libc.so.6", "libc6", &h, why, sizeof why) == RK_OK && h);
    why[0] = 0;
    CHECK(dynlib_sym(h, "libc.so.6", "roomkey_no_such_function", why, sizeof why) == NULL);
    CHECK(strstr(why, "libc.so.6 has no roomkey_no_such_function") != NULL);
    CHECK(dynlib_sym(h, "libc.so.6", "strlen", why, sizeof why) != NULL);
    CHECK(curl_lib_load(why, sizeof why) == RK_OK);
    CHECK(curl_lib_load(why, sizeof why) == RK_OK); /* once; the same answer */
    CHECK(strcmp(libcurl.easy_strerror(CURLE_OK), "No error") == 0);
}

static void test_text_copy(void)
{
    char buf[6];
    memset(buf, 'x', sizeof buf);
    CHECK(text_copy(buf, sizeof buf, "abc") == 3);
    CHECK_STR(buf, "abc");
    CHECK(text_copy(buf, sizeof buf, "abcdefgh") == 5); /* cut to cap - 1 */
    CHECK_STR(buf, "abcde");
    CHECK(text_copy(buf, sizeof buf, "") == 0);
    CHECK_STR(buf, "");
    CHECK(text_copy(buf, sizeof buf, NULL) == 0);
    CHECK_STR(buf, "");
    buf[0] = 'q';
    CHECK(text_copy(buf, 0, "abc") == 0 && buf[0] == 'q'); /* no room: untouched */
    CHECK(text_copy(buf, 1, "abc") == 0 && buf[0] == '\0');
}

/* make_jws writes header.payload.sig (both parts base64url-encoded, the
 * signature "c2ln") into out. */
static void make_jws(char *out, size_t cap, const char *header, const char *payload)
{
    char h[1024], p[256];
    size_t hn = 0, pn = 0;
    b64url_encode((const uint8_t *)header, strlen(header), h, sizeof h, &hn);
    b64url_encode((const uint8_t *)payload, strlen(payload), p, sizeof p, &pn);
    snprintf(out, cap, "%.*s.%.*s.c2ln", (int)hn, h, (int)pn, p);
}

/* header_field parses tok and copies its header's string field key into
 * out ("" when absent); returns jws_parse's result. */
static int header_field(const char *tok, const char *key, char *out, size_t cap)
{
    jws j;
    const char *reason;
    out[0] = '\0';
    int rc = jws_parse(tok, strlen(tok), &j, &reason);
    if (rc == RK_OK) {
        text_copy(out, cap, json_string_value(json_object_get(j.header, key)));
        jws_clear(&j);
    }
    return rc;
}

static void *parse_in_thread(void *arg)
{
    char alg[16];
    return (void *)(intptr_t)header_field(arg, "alg", alg, sizeof alg);
}

/* jws_parse keeps each thread's last parsed header; what it hands back must
 * always be the parse of the header it was given. */
static void test_jws_header_cache(void)
{
    char t1[2048], t2[2048], t3[2048], dup[2048], big[2048], v[400];
    make_jws(t1, sizeof t1, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"a\"}");
    make_jws(t2, sizeof t2, "{\"alg\":\"HS256\",\"typ\":\"JWS\"}", "{\"sub\":\"a\"}");
    make_jws(t3, sizeof t3, "{\"alg\":\"ES256\"}", "{\"sub\":\"b\"}");
    make_jws(dup, sizeof dup, "{\"alg\":\"HS256\",\"alg\":\"none\"}", "{\"sub\":\"a\"}");
    char kid[400];
    memset(kid, 'k', 300);
    kid[300] = '\0';
    char bigh[512];
    snprintf(bigh, sizeof bigh, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    make_jws(big, sizeof big, bigh, "{\"sub\":\"c\"}");

    for (int round = 0; round < 2; round++) {
        CHECK(header_field(t1, "typ", v, sizeof v) == RK_OK);
        CHECK_STR(v, "JWT");
        CHECK(header_field(t1, "typ", v, sizeof v) == RK_OK); /* the cached one */
        CHECK_STR(v, "JWT");
        /* same length, one byte apart: not the cached header */
        CHECK(header_field(t2, "typ", v, sizeof v) == RK_OK);
        CHECK_STR(v, "JWS");
        CHECK(header_field(t3, "alg", v, sizeof v) == RK_OK);
        CHECK_STR(v, "ES256");
        CHECK(header_field(t3, "typ", v, sizeof v) == RK_OK);
        CHECK_STR(v, "");
        /* a refused header is refused every time, cached neighbour or not */
        CHECK(header_field(dup, "alg", v, sizeof v) == RK_EINVAL);
        CHECK(header_field(t1, "alg", v, sizeof v) == RK_OK);
        CHECK(header_field(dup, "alg", v, sizeof v) == RK_EINVAL);
        /* a header too long to keep still parses, and then t1 again */
        CHECK(header_field(big, "kid", v, sizeof v) == RK_OK);
        CHECK_STR(v, kid);
        CHECK(header_field(big, "alg", v, sizeof v) == RK_OK);
        CHECK_STR(v, "RS256");
        CHECK(header_field(t1, "alg", v, sizeof v) == RK_OK);
        CHECK_STR(v, "HS256");
    }
    /* A caller's reference outlives the cache's next entry. */
    jws a;
    const char *reason;
    CHECK(jws_parse(t1, strlen(t1), &a, &reason) == RK_OK);
    CHECK(header_field(t3, "alg", v, sizeof v) == RK_OK);
    CHECK_STR(json_string_value(json_object_get(a.header, "typ")), "JWT");
    jws_clear(&a);
    /* Threads that parse and exit release their entry (the ASan build's
     * leak check fails otherwise). */
    for (int i = 0; i < 4; i++) {
        pthread_t th;
        void *ret = (void *)(intptr_t)-1;
        CHECK(pthread_create(&th, NULL, parse_in_thread, i % 2 ? t1 : t3) == 0);
        CHECK(pthread_join(th, &ret) == 0);
        CHECK((intptr_t)ret == RK_OK);
    }
}

/* ---- buffered log lines ------------------------------------------------- */

#define LOG_THREADS 4
#define LOG_LINES   1000 /* per thread: many buffers' worth */

static char log_path[64];
static int saved_stderr = -1;

/* to_file points stderr at a new empty file (log_path). */
static void to_file(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/rk-log-XXXXXX");
    int fd = mkstemp(log_path);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* back_to_stderr restores stderr and removes the file. */
static void back_to_stderr(void)
{
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    unlink(log_path);
}

/* read_log returns the file's text (malloc'd, caller frees). */
static char *read_log(void)
{
    FILE *f = fopen(log_path, "r");
    char *text = calloc(1, 1 << 22);
    if (f && text)
        text[fread(text, 1, (1 << 22) - 1, f)] = '\0';
    if (f)
        fclose(f);
    return text;
}

/* check_lines: text holds `lines` whole JSON lines of event "request",
 * and the lines of thread t come in its order (field n counts up). */
static void check_lines(const char *text, int lines)
{
    int count = 0, bad = 0, next[LOG_THREADS + 1] = {0};
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            bad++;
            break;
        }
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, NULL);
        int t = (int)json_integer_value(json_object_get(j, "t"));
        int n = (int)json_integer_value(json_object_get(j, "n"));
        if (!j || t < 0 || t > LOG_THREADS || n != next[t]++)
            bad++;
        json_decref(j);
        count++;
        p = nl + 1;
    }
    CHECK(bad == 0);
    CHECK(count == lines);
}

static void *log_in_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < LOG_LINES; i++) {
        const log_field f[] = {{"t", NULL, t}, {"n", NULL, i}, {"pad", "0123456789abcdef", 0}};
        log_fields_buffered("info", "request", f, 3);
    }
    return NULL;
}

/* log_fields_buffered: no line lost, none cut, each thread's in order:
 * threads that exit write theirs, log_buffer_stop writes the rest, and
 * the flusher writes a lone line (liveness bound: 10 s). */
/* rng_init, run before any random byte is drawn (first in main), makes
 * every DRBG a Hash_DRBG over SHA-256: the primary, and this thread's
 * public one that rng_bytes draws from. */
static void test_rng_drbg(void)
{
    CHECK(rng_init() == RK_OK);
    uint8_t a[16] = {0}, b[16] = {0};
    CHECK(rng_bytes(a, sizeof a) == RK_OK);
    CHECK(rng_bytes(b, sizeof b) == RK_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    EVP_RAND_CTX *drbgs[] = {RAND_get0_primary(NULL), RAND_get0_public(NULL)};
    for (size_t i = 0; i < sizeof drbgs / sizeof drbgs[0]; i++) {
        CHECK(drbgs[i] != NULL);
        if (!drbgs[i])
            continue;
        CHECK_STR(EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(drbgs[i])), RNG_DRBG);
        char digest[32] = "";
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_DRBG_PARAM_DIGEST, digest, sizeof digest),
            OSSL_PARAM_END};
        CHECK(EVP_RAND_CTX_get_params(drbgs[i], p) == 1);
        CHECK_STR(digest, RNG_DRBG_DIGEST);
    }
}

static void test_log_buffer(void)
{
    to_file();
    const log_field one[] = {{"t", NULL, LOG_THREADS}, {"n", NULL, 0}};
    log_fields_buffered("info", "request", one, 2); /* not started: written at once */
    char *text = read_log();
    check_lines(text, 1);
    free(text);

    CHECK(log_buffer_start(0) == RK_EINVAL);
    CHECK(log_buffer_start(60000) == RK_OK); /* the flusher sleeps through this part */
    pthread_t th[LOG_THREADS];
    for (int t = 0; t < LOG_THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, log_in_thread, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < LOG_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int i = 1; i <= 3; i++) { /* this thread's: still in its buffer */
        const log_field f[] = {{"t", NULL, LOG_THREADS}, {"n", NULL, i}};
        log_fields_buffered("info", "request", f, 2);
    }
    text = read_log();
    check_lines(text, 1 + LOG_THREADS * LOG_LINES); /* the exited threads' lines are all out */
    free(text);
    log_buffer_stop();
    text = read_log();
    check_lines(text, 4 + LOG_THREADS * LOG_LINES);
    free(text);

    /* with a short interval, the flusher writes a lone line */
    CHECK(log_buffer_start(5) == RK_OK);
    const log_field f[] = {{"t", NULL, LOG_THREADS}, {"n", NULL, 4}};
    log_fields_buffered("info", "request", f, 2);
    bool seen = false;
    for (int i = 0; i < 1000 && !seen; i++) {
        text = read_log();
        seen = text && strstr(text, "\"n\":4}") != NULL;
        free(text);
        if (!seen)
            usleep(10000);
    }
    CHECK(seen);
    log_buffer_stop();
    text = read_log();
    check_lines(text, 5 + LOG_THREADS * LOG_LINES);
    free(text);
    back_to_stderr();
}

int main(void)
{
    test_rng_drbg(); /* first: before anything draws random bytes */
    test_log_buffer();
    test_jws_header_cache();
    test_dynlib();
    test_text_copy();
    test_b64url();
    test_utf8();
    test_utf8_unsafe();
    test_jsonw();
    test_growbuf();
    test_dlist();
    test_duration();
    test_clock();
    return check_summary();
}
