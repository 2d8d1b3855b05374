/* test_console.c - the console's compiled-in file table (console.h):
 * every file has a servable type, a bounded size and a strong ETag; look-up
 * is by exact name only (no folders, no dot segments, no case folding). */
#include "check.h"

#include "api/console.h"

#include <string.h>

static void test_table(void)
{
    CHECK(console_n_files >= 2 && console_n_files <= 32);
    size_t total = 0;
    for (size_t i = 0; i < console_n_files; i++) {
        const console_file *f = &console_files[i];
        CHECK(console_content_type(f->name) != NULL);
        CHECK(strchr(f->name, '/') == NULL && f->name[0] != '.');
        CHECK(f->len > 0 && f->len <= 256 * 1024);
        CHECK(f->data[f->len] == 0); /* the generator's terminator */
        CHECK(strlen(f->etag) == 18 && f->etag[0] == '"' && f->etag[17] == '"');
        CHECK(console_find(f->name) == f);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(console_files[j].etag, f->etag) != 0);
        total += f->len;
    }
    CHECK(total <= 1024 * 1024);
    const console_file *index = console_find("index.html");
    CHECK(index != NULL);
    CHECK(index && memmem(index->data, index->len, "<script type=\"module\" src=\"app.js\">", 35));
}

static void test_lookup(void)
{
    const char *const absent[] = {
        "",           "..",          "../index.html", "./index.html", "/index.html",
        "INDEX.HTML", "index.html/", "index",         "index.html.",  "console.c",
        "%2e%2e"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        CHECK(console_find(absent[i]) == NULL);
    CHECK_STR(console_content_type("a.html"), "text/html; charset=utf-8");
    CHECK_STR(console_content_type("a.js"), "text/javascript; charset=utf-8");
    CHECK_STR(console_content_type("a.css"), "text/css; charset=utf-8");
    CHECK_STR(console_content_type("a.svg"), "image/svg+xml");
    CHECK(console_content_type("a.map") == NULL);
    CHECK(console_content_type("js") == NULL);
    CHECK(console_content_type("a.JS") == NULL);
}

int main(void)
{
    test_table();
    test_lookup();
    return check_summary();
}
