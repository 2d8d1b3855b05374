/* audit_floor.c - what one audit row costs on the SQLite store by itself:
 * CPU time (user + system, this thread) per record for RoomKey's own
 * audit_add_batch, in groups of 32 (what 32 connections can have in flight,
 * the HTTP bench's load) and of 1024 (a best case no held request ever
 * sees). Records have the shape the HTTP bench's token requests write, with
 * time-ordered jtis like the minter's. This is the part of a token request
 * that no HTTP or JSON work can remove while every token's audit row is
 * committed before the token is returned.
 *
 * Usage: audit_floor DIR [ROWS [GROUP...]] (groups 1..1024; default 32 and
 * 1024). Prints "audit_floor_us GROUP VALUE" lines. */
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GROUP 1024

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* run writes rows records in groups of group into a fresh store in dir and
 * prints the CPU microseconds per record. Returns 0 or 1 on failure. */
static int run(const char *dir, size_t group, long rows)
{
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/floor-%zu.db", dir, group);
    store *st;
    if (store_open(path, &st, why, sizeof why) != RK_OK) {
        fprintf(stderr, "store_open: %s\n", why);
        return 1;
    }
    static store_audit recs[MAX_GROUP];
    const store_audit *ptrs[MAX_GROUP];
    int rcs[MAX_GROUP];
    for (size_t i = 0; i < group; i++) {
        store_audit *a = &recs[i];
        memset(a, 0, sizeof *a);
        strcpy(a->subject, "bench-user");
        strcpy(a->identity, "bench-user");
        strcpy(a->room, "general");
        strcpy(a->role, "member");
        strcpy(a->grants, "{\"video\":{\"roomJoin\":true,\"canPublish\":true,\"canSubscribe\":"
                          "true,\"canPublishData\":true,\"room\":\"general\"}}");
        a->issued_at = 1800000000;
        a->exp = 1800003600;
        strcpy(a->client_ip, "127.0.0.1");
        strcpy(a->route, "POST /api/livekit/token");
        ptrs[i] = a;
    }
    double t0 = thread_cpu_s();
    long n = 0;
    int rc = RK_OK;
    while (n < rows && rc == RK_OK) {
        for (size_t i = 0; i < group; i++) /* time-ordered, unique */
            snprintf(recs[i].jti, sizeof recs[i].jti, "%012u%013u",
                     (unsigned)((n + (long)i) % 1000000000L),
                     (unsigned)((n * 7919 + 1) % 1000000000L));
        rc = st->ops->audit_add_batch(st, ptrs, group, rcs);
        for (size_t i = 0; i < group && rc == RK_OK; i++)
            rc = rcs[i];
        n += (long)group;
    }
    double used = thread_cpu_s() - t0;
    store_close(st);
    if (rc != RK_OK) {
        fprintf(stderr, "audit_add_batch failed: %d\n", rc);
        return 1;
    }
    printf("audit_floor_us %zu %.2f\n", group, used * 1e6 / (double)n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: audit_floor DIR [ROWS [GROUP...]]\n");
        return 2;
    }
    long rows = argc > 2 ? atol(argv[2]) : 200000;
    if (rows < MAX_GROUP)
        rows = MAX_GROUP;
    if (argc <= 3)
        return run(argv[1], 32, rows) || run(argv[1], MAX_GROUP, rows);
    for (int i = 3; i < argc; i++) {
        long group = atol(argv[i]);
        if (group < 1 || group > MAX_GROUP) {
            fprintf(stderr, "audit_floor: a group is 1..%d records\n", MAX_GROUP);
            return 2;
        }
        if (run(argv[1], (size_t)group, rows))
            return 1;
    }
    return 0;
}
