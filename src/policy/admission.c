/* admission.c - places in rooms that tokens being issued hold. */
#include "admission.h"
#include "../util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An identity's place in a room: "room\0identity\0" in key. */
typedef struct place {
    struct place *next;
    size_t refs;
    size_t room_len; /* strlen(room) */
    char key[];
} place;

/* A room being decided: held by one decider, waited for by the others. */
typedef struct turn {
    struct turn *next;
    size_t users; /* the holder and those waiting */
    bool held;
    char room[];
} turn;

struct admission {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a turn given up, a place released */
    place *places;
    size_t n_places;
    turn *turns;
    size_t n_turns;
};

void admission_free(admission *a)
{
    if (!a)
        return;
    while (a->places) {
        place *p = a->places;
        a->places = p->next;
        free(p);
    }
    while (a->turns) {
        turn *t = a->turns;
        a->turns = t->next;
        free(t);
    }
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int admission_new(admission **out)
{
    admission *a = calloc(1, sizeof *a);
    if (!a)
        return RK_ENOMEM;
    int e = pthread_mutex_init(&a->mu, NULL);
    if (e == 0 && (e = pthread_cond_init(&a->cv, NULL)) != 0)
        pthread_mutex_destroy(&a->mu);
    if (e) {
        free(a);
        return RK_ENOMEM;
    }
    *out = a;
    return RK_OK;
}

/* find_turn returns room's turn (a->mu held), or NULL. */
static turn *find_turn(admission *a, const char *room)
{
    for (turn *t = a->turns; t; t = t->next)
        if (strcmp(t->room, room) == 0)
            return t;
    return NULL;
}

/* in_room says whether p is a place in room. */
static bool in_room(const place *p, const char *room)
{
    return strcmp(p->key, room) == 0;
}

/* find_place returns the link to identity's place in room (a->mu held):
 * *link is NULL when there is none. */
static place **find_place(admission *a, const char *room, const char *identity)
{
    place **link = &a->places;
    for (; *link; link = &(*link)->next)
        if (in_room(*link, room) && strcmp((*link)->key + (*link)->room_len + 1, identity) == 0)
            break;
    return link;
}

int admission_begin(admission *a, const char *room)
{
    pthread_mutex_lock(&a->mu);
    turn *t = find_turn(a, room);
    while (!t && a->n_turns >= ADMISSION_MAX_TURNS) {
        pthread_cond_wait(&a->cv, &a->mu);
        t = find_turn(a, room);
    }
    if (!t) {
        size_t len = strlen(room);
        t = calloc(1, sizeof *t + len + 1);
        if (!t) {
            pthread_mutex_unlock(&a->mu);
            return RK_ENOMEM;
        }
        memcpy(t->room, room, len + 1);
        t->next = a->turns;
        a->turns = t;
        a->n_turns++;
    }
    t->users++;
    while (t->held)
        pthread_cond_wait(&a->cv, &a->mu);
    t->held = true;
    pthread_mutex_unlock(&a->mu);
    return RK_OK;
}

void admission_end(admission *a, const char *room)
{
    pthread_mutex_lock(&a->mu);
    turn **link = &a->turns;
    while (*link && strcmp((*link)->room, room) != 0)
        link = &(*link)->next;
    turn *t = *link;
    if (t) {
        t->held = false;
        if (--t->users == 0) {
            *link = t->next;
            a->n_turns--;
            free(t);
        }
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void admission_count(admission *a, const char *room, const char *identity, size_t *n, bool *holds)
{
    *n = 0;
    *holds = false;
    pthread_mutex_lock(&a->mu);
    for (const place *p = a->places; p; p = p->next)
        if (in_room(p, room)) {
            (*n)++;
            *holds = *holds || strcmp(p->key + p->room_len + 1, identity) == 0;
        }
    pthread_mutex_unlock(&a->mu);
}

/* room_held says whether any place in room is held (a->mu held). */
static bool room_held(const admission *a, const char *room)
{
    for (const place *p = a->places; p; p = p->next)
        if (in_room(p, room))
            return true;
    return false;
}

void admission_settle(admission *a, const char *room)
{
    pthread_mutex_lock(&a->mu);
    while (room_held(a, room))
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

int admission_take(admission *a, const char *room, const char *identity)
{
    pthread_mutex_lock(&a->mu);
    place *p = *find_place(a, room, identity);
    while (!p && a->n_places >= ADMISSION_MAX_PLACES) {
        pthread_cond_wait(&a->cv, &a->mu);
        p = *find_place(a, room, identity);
    }
    if (!p) {
        size_t rl = strlen(room), il = strlen(identity);
        p = malloc(sizeof *p + rl + il + 2);
        if (!p) {
            pthread_mutex_unlock(&a->mu);
            return RK_ENOMEM;
        }
        p->refs = 0;
        p->room_len = rl;
        memcpy(p->key, room, rl + 1);
        memcpy(p->key + rl + 1, identity, il + 1);
        p->next = a->places;
        a->places = p;
        a->n_places++;
    }
    p->refs++;
    pthread_mutex_unlock(&a->mu);
    return RK_OK;
}

void admission_release(admission *a, const char *room, const char *identity)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    place **link = find_place(a, room, identity);
    place *p = *link;
    if (p && --p->refs == 0) {
        *link = p->next;
        a->n_places--;
        free(p);
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}
