/* console.c - the admin console's static files at /console/ (see
 * console.h). */
#include "console.h"
#include "request.h"
#include "../util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The headers of every console answer (besides the server's nosniff). */
static const char *const SECURITY[][2] = {
    {"Content-Security-Policy", CONSOLE_CSP},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};

/* The types the console serves, by file name extension. */
static const struct {
    const char *ext;
    const char *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

const char *console_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcmp(dot, TYPES[i].ext) == 0)
            return TYPES[i].type;
    return NULL;
}

const console_file *console_find(const char *name)
{
    for (size_t i = 0; i < console_n_files; i++)
        if (strcmp(console_files[i].name, name) == 0)
            return &console_files[i];
    return NULL;
}

/* secure adds the security headers that resp lacks. */
static void secure(http_resp *resp)
{
    for (size_t i = 0; i < sizeof SECURITY / sizeof SECURITY[0]; i++)
        if (!http_resp_has_header(resp, SECURITY[i][0]))
            http_resp_header(resp, SECURITY[i][0], SECURITY[i][1]);
}

void console_error(http_resp *resp, int status, const char *message)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%d %s\n", status, message);
    http_resp_json(resp, status, buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0);
    resp->content_type = "text/plain; charset=utf-8";
    secure(resp);
}

/* etag_matches reports whether If-None-Match value inm lists etag (weak
 * comparison, as RFC 9110 asks for If-None-Match) or is "*". */
static bool etag_matches(const char *inm, const char *etag)
{
    while (*inm == ' ')
        inm++;
    return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

/* serve answers GET of /console/ (index.html) and /console/{file}. */
static int serve(void *ctx, const http_req *req, http_resp *resp)
{
    const api_ctx *api = ctx;
    const char *name = http_req_param(req, "file");
    const console_file *f =
        api->cfg->console.enabled ? console_find(name ? name : "index.html") : NULL;
    const char *type = f ? console_content_type(f->name) : NULL;
    if (!type) {
        console_error(resp, 404, "Not Found");
        return RK_OK;
    }
    secure(resp);
    resp->content_type = type;
    http_resp_header(resp, "ETag", f->etag);
    http_resp_header(resp, "Cache-Control", "no-cache");
    const char *inm = http_req_header(req, "If-None-Match");
    if (inm && etag_matches(inm, f->etag)) {
        resp->status = 304;
        return RK_OK;
    }
    char *body = malloc(f->len ? f->len : 1);
    if (!body) {
        console_error(resp, 500, "Internal Server Error");
        return RK_OK;
    }
    memcpy(body, f->data, f->len);
    request_reply_adopt(resp, 200, body, f->len);
    return RK_OK;
}

/* to_slash answers /console with a redirect to /console/ (relative URLs in
 * the page resolve against the folder). */
static int to_slash(void *ctx, const http_req *req, http_resp *resp)
{
    (void)req;
    const api_ctx *api = ctx;
    if (!api->cfg->console.enabled) {
        console_error(resp, 404, "Not Found");
        return RK_OK;
    }
    console_error(resp, 308, "Permanent Redirect");
    http_resp_header(resp, "Location", "/console/");
    return RK_OK;
}

int api_console_register(http_server *s, api_ctx *api)
{
    const http_route routes[] = {
        {"GET", "/console", "console.redirect", to_slash, api, false, console_error},
        {"GET", "/console/", "console.file", serve, api, false, console_error},
        {"GET", "/console/{file}", "console.file", serve, api, false, console_error},
    };
    return http_server_add_table(s, routes, sizeof routes / sizeof routes[0], false);
}
