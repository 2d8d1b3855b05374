/* test_ops.c - the operations modules: IP networks, the client address
 * behind trusted proxies, token buckets (refill, retry-after, eviction,
 * bounded size), the CORS allow-list, the metrics text, and the config
 * sections rate_limit / cors / trusted_proxies / shutdown_timeout with
 * ROOMKEY_RATE_LIMIT, ROOMKEY_CORS_ORIGINS and ROOMKEY_TRUSTED_PROXIES. */
#include "check.h"
#include "config/config.h"
#include "http/clientip.h"
#include "http/cors.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "util/err.h"
#include "util/ipnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void addr(const char *s, uint8_t out[16])
{
    if (ipnet_addr_parse(s, out) != RK_OK)
        abort();
}

static void test_ipnet(void)
{
    ipnet n;
    uint8_t a[16];
    char buf[64];
    CHECK(ipnet_parse("10.0.0.0/8", &n) == RK_OK && n.bits == 104);
    addr("10.200.3.4", a);
    CHECK(ipnet_contains(&n, a));
    addr("11.0.0.1", a);
    CHECK(!ipnet_contains(&n, a));
    CHECK(ipnet_parse("192.168.1.77/24", &n) == RK_OK); /* host bits cleared */
    ipnet_addr_format(n.addr, buf, sizeof buf);
    CHECK_STR(buf, "192.168.1.0");
    CHECK(ipnet_parse("2001:db8::/32", &n) == RK_OK && n.bits == 32);
    addr("2001:db8:ffff::1", a);
    CHECK(ipnet_contains(&n, a));
    CHECK(ipnet_parse("::1", &n) == RK_OK && n.bits == 128);
    CHECK(ipnet_parse("127.0.0.1", &n) == RK_OK && n.bits == 128);
    addr("127.0.0.1", a);
    CHECK(ipnet_contains(&n, a));
    ipnet_addr_format(a, buf, sizeof buf);
    CHECK_STR(buf, "127.0.0.1");
    const char *bad[] = {"",         "10.0.0.0/33",  "::/129",       "10.0.0.0/",
                         "10.0.0/8", "10.0.0.0/8/8", "host.example", "1.2.3.4 ",
                         "[::1]",    "10.0.0.0/-1",  "10.0.0.0/0x8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(ipnet_parse(bad[i], &n) == RK_EINVAL);
}

/* resolve returns the client address text for peer and one XFF value. */
static const char *resolve(const char *peer, const char *xff, const ipnet *t, size_t nt)
{
    static char buf[64];
    uint8_t p[16], out[16];
    addr(peer, p);
    const char *v[1] = {xff};
    clientip_resolve(p, t, nt, v, xff ? 1 : 0, out);
    ipnet_addr_format(out, buf, sizeof buf);
    return buf;
}

static void test_clientip(void)
{
    ipnet t[2];
    ipnet_parse("127.0.0.1", &t[0]);
    ipnet_parse("10.0.0.0/8", &t[1]);
    /* no trusted proxies: the header is ignored */
    CHECK_STR(resolve("127.0.0.1", "1.2.3.4", NULL, 0), "127.0.0.1");
    /* an untrusted peer: ignored too */
    CHECK_STR(resolve("192.0.2.1", "1.2.3.4", t, 2), "192.0.2.1");
    CHECK_STR(resolve("127.0.0.1", "1.2.3.4", t, 2), "1.2.3.4");
    CHECK_STR(resolve("127.0.0.1", "6.6.6.6, 1.2.3.4", t, 2), "1.2.3.4");
    CHECK_STR(resolve("127.0.0.1", "6.6.6.6,1.2.3.4 , 10.1.1.1,10.2.2.2", t, 2), "1.2.3.4");
    CHECK_STR(resolve("127.0.0.1", "10.1.1.1, 10.2.2.2", t, 2), "10.1.1.1"); /* all trusted */
    CHECK_STR(resolve("127.0.0.1", "6.6.6.6, junk, 10.2.2.2", t, 2), "10.2.2.2");
    CHECK_STR(resolve("127.0.0.1", "", t, 2), "127.0.0.1");
    CHECK_STR(resolve("127.0.0.1", "2001:db8::7", t, 2), "2001:db8::7");
    /* several headers form one list, read from the last */
    uint8_t p[16], out[16];
    char buf[64];
    addr("127.0.0.1", p);
    const char *v[2] = {"5.5.5.5", "10.0.0.9"};
    clientip_resolve(p, t, 2, v, 2, out);
    ipnet_addr_format(out, buf, sizeof buf);
    CHECK_STR(buf, "5.5.5.5");
}

static void test_ratelimit(void)
{
    ratelimit *rl = NULL;
    CHECK(ratelimit_new(10, &rl) == RK_EINVAL);
    CHECK(ratelimit_new(1024, &rl) == RK_OK);
    CHECK(ratelimit_bytes(rl) >= 1024 * 32 && ratelimit_bytes(rl) < 1024 * 32 + 4096);
    uint8_t k[16], other[16];
    CHECK(ratelimit_key_str("iss\nalice", 9, k) == RK_OK);
    CHECK(ratelimit_key_str("iss\nbob", 7, other) == RK_OK);
    ratelimit_rule rule = {0.5, 3}; /* one token every 2 s, bursts of 3 */
    unsigned retry = 0;
    uint64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        CHECK(ratelimit_take(rl, k, &rule, t, &retry) == RK_OK);
    CHECK(ratelimit_take(rl, k, &rule, t, &retry) == RK_ELIMITED && retry == 2);
    CHECK(ratelimit_take(rl, other, &rule, t, &retry) == RK_OK); /* its own bucket */
    CHECK(ratelimit_take(rl, k, &rule, t + 1000, &retry) == RK_ELIMITED && retry == 1);
    CHECK(ratelimit_take(rl, k, &rule, t + 2000, &retry) == RK_OK);
    CHECK(ratelimit_take(rl, k, &rule, t + 2000, &retry) == RK_ELIMITED);
    /* a long pause refills to the burst, no more */
    t += 3600 * 1000;
    for (int i = 0; i < 3; i++)
        CHECK(ratelimit_take(rl, k, &rule, t, &retry) == RK_OK);
    CHECK(ratelimit_take(rl, k, &rule, t, &retry) == RK_ELIMITED);
    /* a slow rule: retry-after in whole seconds, capped at a day */
    ratelimit_rule slow = {1.0 / 3600, 1};
    CHECK(ratelimit_take(rl, other, &slow, t, &retry) == RK_OK);
    CHECK(ratelimit_take(rl, other, &slow, t, &retry) == RK_ELIMITED && retry == 3600);
    /* a flood of distinct keys evicts: the table never holds more, and an
     * evicted key comes back with a full bucket */
    uint8_t ip[16] = {0};
    for (uint32_t i = 0; i < 200000; i++) {
        ip[10] = ip[11] = 0xff;
        ip[12] = (uint8_t)(i >> 24), ip[13] = (uint8_t)(i >> 16), ip[14] = (uint8_t)(i >> 8);
        ip[15] = (uint8_t)i;
        uint8_t key[16];
        ratelimit_key_ip(ip, key);
        if (ratelimit_take(rl, key, &rule, t, &retry) != RK_OK) {
            CHECK(0);
            break;
        }
    }
    CHECK(ratelimit_take(rl, k, &rule, t, &retry) == RK_OK);
    /* IPv6 keys: one /64 */
    uint8_t a[16], b[16], ka[16], kb[16];
    addr("2001:db8:1:2::1", a);
    addr("2001:db8:1:2:ffff::9", b);
    ratelimit_key_ip(a, ka);
    ratelimit_key_ip(b, kb);
    CHECK(memcmp(ka, kb, 16) == 0);
    addr("2001:db8:1:3::1", b);
    ratelimit_key_ip(b, kb);
    CHECK(memcmp(ka, kb, 16) != 0);
    ratelimit_free(rl);
}

/* header returns resp's value for name, or NULL. */
static const char *header(const http_resp *r, const char *name)
{
    for (size_t i = 0; i < r->n_hdr; i++)
        if (strcmp(r->hdr_name[i], name) == 0)
            return r->hdr_value[i];
    return NULL;
}

static void resp_clear(http_resp *r)
{
    for (size_t i = 0; i < r->n_hdr; i++)
        free(r->hdr_value[i]);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void test_cors(void)
{
    cors_policy p = {.origins = {"https://app.example", "http://localhost:4200"},
                     .n_origins = 2,
                     .allow_headers = "Authorization, Content-Type",
                     .max_age_s = 600};
    CHECK_STR(cors_allowed(&p, "https://app.example"), "https://app.example");
    CHECK(cors_allowed(&p, "https://app.example.evil") == NULL);
    CHECK(cors_allowed(&p, "https://APP.example") == NULL);
    CHECK(cors_allowed(&p, "https://app.example/") == NULL);
    CHECK(cors_allowed(&p, NULL) == NULL);
    CHECK(cors_allowed(NULL, "https://app.example") == NULL);
    http_resp r = {0};
    cors_headers(&p, "https://evil.example", &r); /* refused: only Vary (caches key on Origin) */
    CHECK(r.n_hdr == 1 && header(&r, "Access-Control-Allow-Origin") == NULL);
    CHECK_STR(header(&r, "Vary"), "Origin");
    resp_clear(&r);
    cors_headers(NULL, "https://app.example", &r); /* no CORS: nothing depends on Origin */
    CHECK(r.n_hdr == 0);
    cors_headers(&p, "http://localhost:4200", &r);
    CHECK_STR(header(&r, "Access-Control-Allow-Origin"), "http://localhost:4200");
    CHECK_STR(header(&r, "Vary"), "Origin");
    CHECK(header(&r, "Access-Control-Allow-Credentials") == NULL);
    resp_clear(&r);
    CHECK(!cors_preflight(&p, "https://app.example", "DELETE", "GET, POST", &r) && r.n_hdr == 0);
    CHECK(!cors_preflight(&p, "https://evil.example", "POST", "GET, POST", &r) && r.n_hdr == 0);
    CHECK(!cors_preflight(&p, "https://app.example", "POS", "GET, POST", &r) && r.n_hdr == 0);
    p.credentials = true;
    CHECK(cors_preflight(&p, "https://app.example", "POST", "GET, POST", &r) && r.status == 204);
    CHECK_STR(header(&r, "Access-Control-Allow-Methods"), "GET, POST");
    CHECK_STR(header(&r, "Access-Control-Allow-Headers"), "Authorization, Content-Type");
    CHECK_STR(header(&r, "Access-Control-Max-Age"), "600");
    CHECK_STR(header(&r, "Access-Control-Allow-Credentials"), "true");
    resp_clear(&r);
    cors_policy star = {.origins = {"*"}, .n_origins = 1, .credentials = true};
    cors_headers(&star, "https://any.example", &r);
    CHECK_STR(header(&r, "Access-Control-Allow-Origin"), "*"); /* never the request's origin */
    CHECK(header(&r, "Access-Control-Allow-Credentials") == NULL);
    resp_clear(&r);
}

static void test_metrics(void)
{
    int a = metrics_route("unit.a");
    CHECK(a >= 0 && metrics_route("unit.a") == a);
    metrics_request(a, 200, 300);
    metrics_request(a, 200, 3000000);
    metrics_request(a, 418, 10);
    metrics_token_issued("unit.a", "member");
    metrics_token_issued("unit.a", "member");
    metrics_token_issued("unit.a", "odd\"role\\");
    metrics_rate_limited(METRICS_SCOPE_SUBJECT);
    metrics_text t = {0};
    metrics_render(&t);
    metrics_sample(&t, "x_total", "reason", "a\nb", 7);
    CHECK(t.err == RK_OK && t.buf);
    const char *s = t.buf ? t.buf : "";
    CHECK(strstr(s, "roomkey_http_requests_total{route=\"unit.a\",code=\"200\"} 2\n"));
    CHECK(strstr(s, "roomkey_http_requests_total{route=\"unit.a\",code=\"4xx\"} 1\n"));
    CHECK(strstr(s, "roomkey_http_request_duration_seconds_bucket{route=\"unit.a\",le=\"0.0005\"} "
                    "2\n"));
    CHECK(
        strstr(s, "roomkey_http_request_duration_seconds_bucket{route=\"unit.a\",le=\"2.5\"} 2\n"));
    CHECK(strstr(s, "roomkey_http_request_duration_seconds_bucket{route=\"unit.a\",le=\"5\"} 3\n"));
    CHECK(strstr(s, "roomkey_http_request_duration_seconds_count{route=\"unit.a\"} 3\n"));
    CHECK(strstr(s, "roomkey_http_request_duration_seconds_sum{route=\"unit.a\"} 3.000310\n"));
    CHECK(strstr(s, "roomkey_tokens_issued_total{route=\"unit.a\",role=\"member\"} 2\n"));
    CHECK(strstr(s, "role=\"odd\\\"role\\\\\"} 1\n"));
    CHECK(strstr(s, "roomkey_rate_limited_total{scope=\"subject\"} 1\n"));
    CHECK(strstr(s, "# TYPE roomkey_http_request_duration_seconds histogram\n"));
    CHECK(strstr(s, "x_total{reason=\"a\\nb\"} 7\n"));
    metrics_text_free(&t);
}

/* ---- config -------------------------------------------------------------- */

static char dir[64];
static char why[512];

static int load(const char *yaml, config **cfg)
{
    char path[128];
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(yaml, f) < 0 || fclose(f) != 0)
        abort();
    *cfg = NULL;
    why[0] = '\0';
    return config_load(path, cfg, why, sizeof why);
}

/* refused checks yaml is refused with a message containing want. */
static void refused(const char *yaml, const char *want)
{
    config *c;
    int rc = load(yaml, &c);
    CHECK(rc != RK_OK && c == NULL);
    if (!strstr(why, want)) {
        check_failed++;
        fprintf(stderr, "FAIL: expected \"%s\" in \"%s\"\n", want, why);
    }
}

static void test_config(void)
{
    static const char *const vars[] = {"ROOMKEY_RATE_LIMIT", "ROOMKEY_CORS_ORIGINS",
                                       "ROOMKEY_TRUSTED_PROXIES", "ROOMKEY_CONFIG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    config *c = NULL;
    CHECK(load("", &c) == RK_OK && c);
    if (c) {
        CHECK(c->rate_limit.enabled && c->rate_limit.ip.requests == 50 &&
              c->rate_limit.ip.per_s == 1 && c->rate_limit.ip.burst == 100);
        CHECK(c->rate_limit.subject.requests == 30 && c->rate_limit.subject.per_s == 60 &&
              c->rate_limit.subject.burst == 10);
        CHECK(c->rate_limit.max_entries == 16384 && !c->rate_limit.limit_probes);
        CHECK(c->cors.n_origins == 0 && !c->cors.allow_credentials && c->cors.max_age == 600);
        CHECK(strstr(c->cors.allow_headers, "Authorization") != NULL);
        CHECK(c->n_trusted_proxies == 0 && c->shutdown_timeout == 10);
        config_free(c);
    }
    CHECK(load("rate_limit:\n  enabled: true\n  ip: {requests: 600, per: 1m}\n"
               "  subject: {requests: 5, per: 10s, burst: 2}\n  max_entries: 4096\n"
               "  limit_probes: true\n"
               "cors:\n  origins: [\"https://a.example\", \"http://localhost:4200\", "
               "\"http://[::1]:8080\"]\n  allow_credentials: true\n  allow_headers: "
               "\"Authorization\"\n"
               "  max_age: 1h\n"
               "trusted_proxies: [10.0.0.0/8, \"::1\"]\nshutdown_timeout: 30s\n",
               &c) == RK_OK);
    if (c) {
        CHECK(c->rate_limit.ip.requests == 600 && c->rate_limit.ip.per_s == 60 &&
              c->rate_limit.ip.burst == 600);
        CHECK(c->rate_limit.subject.burst == 2 && c->rate_limit.subject.per_s == 10);
        CHECK(c->rate_limit.max_entries == 4096 && c->rate_limit.limit_probes);
        CHECK(c->cors.n_origins == 3 && c->cors.allow_credentials && c->cors.max_age == 3600);
        CHECK_STR(c->cors.origins[2], "http://[::1]:8080");
        CHECK(c->n_trusted_proxies == 2 && c->trusted_proxies[0].bits == 104);
        CHECK(c->shutdown_timeout == 30);
        config_free(c);
    }
    refused("rate_limit: {ip: {per: 1s}}\n", "rate_limit.ip.requests: required");
    refused("rate_limit: {ip: {requests: 0}}\n", "rate_limit.ip.requests");
    refused("rate_limit: {subject: {requests: 1, per: 2d}}\n", "rate_limit.subject.per");
    refused("rate_limit: {max_entries: 10}\n", "rate_limit.max_entries");
    refused("rate_limit: {burst: 3}\n", "unknown key \"rate_limit.burst\"");
    refused("cors: {origins: [\"https://a.example/\"]}\n", "cors.origins[0]");
    refused("cors: {origins: [\"HTTPS://A.example\"]}\n", "cors.origins[0]");
    refused("cors: {origins: [\"https://a.example\", \"https://a.example\"]}\n", "listed twice");
    refused("cors: {origins: [\"*\"], allow_credentials: true}\n", "cors.allow_credentials");
    refused("cors: {allow_headers: \"X\\r\\nSet-Cookie: a\"}\n", "cors.allow_headers");
    refused("trusted_proxies: [\"10.0.0.0/99\"]\n", "trusted_proxies[0]");
    refused("trusted_proxies: [proxy.example]\n", "trusted_proxies[0]");
    refused("shutdown_timeout: 10m\n", "shutdown_timeout");

    /* env */
    setenv("ROOMKEY_RATE_LIMIT", "off", 1);
    CHECK(load("rate_limit: {enabled: true}\n", &c) == RK_OK && c && !c->rate_limit.enabled);
    config_free(c);
    setenv("ROOMKEY_RATE_LIMIT", "ip=10/1s:20, subject=3/1m", 1);
    CHECK(load("rate_limit: {enabled: false}\n", &c) == RK_OK && c);
    if (c) {
        CHECK(c->rate_limit.enabled && c->rate_limit.ip.requests == 10 &&
              c->rate_limit.ip.burst == 20 && c->rate_limit.subject.per_s == 60 &&
              c->rate_limit.subject.burst == 3);
        config_free(c);
    }
    const char *bad_env[] = {"maybe",     "ip=10",   "ip=0/1s", "ip=10/1s:0",
                             "host=1/1s", "ip=1/1x", "ip=5/1s:"};
    for (size_t i = 0; i < sizeof bad_env / sizeof bad_env[0]; i++) {
        setenv("ROOMKEY_RATE_LIMIT", bad_env[i], 1);
        refused("", "ROOMKEY_RATE_LIMIT");
    }
    unsetenv("ROOMKEY_RATE_LIMIT");
    setenv("ROOMKEY_CORS_ORIGINS", "https://b.example, http://localhost:3000", 1);
    setenv("ROOMKEY_TRUSTED_PROXIES", "192.168.0.0/16,127.0.0.1", 1);
    CHECK(load("cors: {origins: [\"https://a.example\"]}\n", &c) == RK_OK && c);
    if (c) {
        CHECK(c->cors.n_origins == 2 && !strcmp(c->cors.origins[0], "https://b.example"));
        CHECK(c->n_trusted_proxies == 2);
        config_free(c);
    }
    setenv("ROOMKEY_CORS_ORIGINS", "https://b.example/path", 1);
    refused("", "env: ROOMKEY_CORS_ORIGINS");
    unsetenv("ROOMKEY_CORS_ORIGINS");
    setenv("ROOMKEY_TRUSTED_PROXIES", "10.0.0.1/40", 1);
    refused("", "env: ROOMKEY_TRUSTED_PROXIES");
    unsetenv("ROOMKEY_TRUSTED_PROXIES");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/rk-test-ops-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_ipnet();
    test_clientip();
    test_ratelimit();
    test_cors();
    test_metrics();
    test_config();
    char path[128];
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    unlink(path);
    rmdir(dir);
    return check_summary();
}
