/* cmd_healthcheck.c - `roomkey healthcheck [--url URL]`: asks a running
 * RoomKey's /readyz and exits 0 when it answers ready, for container and
 * service health checks that have no shell or curl. */
#include "../util/err.h"
#include "../util/httpc.h"
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HC_MAX_URL    512
#define HC_MAX_BODY   4096 /* /readyz answers a few hundred bytes */
#define HC_TIMEOUT_MS 5000

static const char HC_HELP[] =
    "Usage: roomkey healthcheck [--url URL]\n"
    "\n"
    "Ask a running RoomKey whether it is ready (GET /readyz) and exit 0 when it\n"
    "answers 200 {\"status\":\"ready\"}, 1 otherwise (the reason on stderr).\n"
    "URL defaults to http://ROOMKEY_LISTEN/readyz (a 0.0.0.0 or [::] host is\n"
    "asked on loopback), else http://127.0.0.1:8080/readyz. Times out after 5 s.\n";

/* default_url writes the /readyz URL of ROOMKEY_LISTEN (or 127.0.0.1:8080)
 * into out. */
static int default_url(char *out, size_t cap)
{
    const char *listen = getenv("ROOMKEY_LISTEN");
    if (!listen || !*listen)
        listen = "127.0.0.1:8080";
    const char *host_end = strrchr(listen, ':');
    if (!host_end)
        return RK_EINVAL;
    const char *port = host_end + 1;
    size_t host_len = (size_t)(host_end - listen);
    const char *host = listen;
    if (host_len == 0 || (host_len == 7 && strncmp(listen, "0.0.0.0", 7) == 0))
        host = "127.0.0.1", host_len = 9;
    else if (host_len == 4 && strncmp(listen, "[::]", 4) == 0)
        host = "[::1]", host_len = 5;
    int n = snprintf(out, cap, "http://%.*s:%s/readyz", (int)host_len, host, port);
    return n > 0 && (size_t)n < cap ? RK_OK : RK_ETOOBIG;
}

/* ask GETs url into *a (the caller clears it with httpc_answer_clear).
 * why names a transport failure. */
static int ask(const char *url, httpc_answer *a, char *why, size_t cap)
{
    const httpc_req r = {.url = url,
                         .timeout_ms = HC_TIMEOUT_MS,
                         .max_answer = HC_MAX_BODY,
                         .allow_http = true,
                         .user_agent = "roomkey-healthcheck"};
    int rc = httpc_do(&r, a);
    if (rc == RK_ETOOBIG)
        return rk_fail(rc, why, cap, "answer larger than %d bytes", HC_MAX_BODY);
    if (rc)
        return rk_fail(rc, why, cap, "%s", a->error[0] ? a->error : rk_strerror(rc));
    return RK_OK;
}

/* verdict prints why a 200/503 /readyz answer is or is not ready; returns
 * the exit code. */
static int verdict(const char *url, const httpc_answer *body)
{
    long status = body->status;
    json_t *j = json_loadb(body->body, body->len, JSON_REJECT_DUPLICATES, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    int ready = status == 200 && st && strcmp(st, "ready") == 0;
    if (ready)
        printf("ready: %s\n", url);
    else if (st)
        fprintf(stderr, "roomkey: not ready (HTTP %ld, status \"%s\"): %.*s\n", status, st,
                (int)body->len, body->body);
    else
        fprintf(stderr, "roomkey: %s answered HTTP %ld without a readiness status\n", url, status);
    json_decref(j);
    return ready ? CLI_OK : CLI_FAIL;
}

int cmd_healthcheck(int argc, char **argv)
{
    char url[HC_MAX_URL] = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(HC_HELP, stdout);
            return CLI_OK;
        }
        const char *v = strcmp(argv[i], "--url") == 0 && i + 1 < argc ? argv[++i]
                        : strncmp(argv[i], "--url=", 6) == 0          ? argv[i] + 6
                                                                      : NULL;
        if (!v || snprintf(url, sizeof url, "%s", v) >= (int)sizeof url) {
            fprintf(stderr, "roomkey: unexpected argument \"%s\"\n%s", argv[i], HC_HELP);
            return CLI_USAGE;
        }
    }
    if (!url[0] && default_url(url, sizeof url) != RK_OK) {
        fprintf(stderr, "roomkey: ROOMKEY_LISTEN must be HOST:PORT\n");
        return CLI_USAGE;
    }
    httpc_answer a;
    char why[sizeof a.error + 64] = "";
    if (ask(url, &a, why, sizeof why) != RK_OK) {
        fprintf(stderr, "roomkey: %s: %s\n", url, why);
        return CLI_FAIL;
    }
    int code = verdict(url, &a);
    httpc_answer_clear(&a);
    return code;
}
