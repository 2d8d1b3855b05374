/* dlist.h - an intrusive doubly linked list: the owner embeds a
 * dlist_node in its own struct (as the first member, so a node converts
 * back to the owner) and keeps the head. The list never allocates or
 * frees, and takes no lock: the owner serialises its use. */
#ifndef RK_DLIST_H
#define RK_DLIST_H

typedef struct dlist_node {
    struct dlist_node *prev, *next;
} dlist_node;

/* dlist_push puts n at the front of the list *head. */
void dlist_push(dlist_node **head, dlist_node *n);

/* dlist_unlink takes n out of the list *head; n stays its owner's. */
void dlist_unlink(dlist_node **head, dlist_node *n);

#endif
