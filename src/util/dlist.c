/* dlist.c - see dlist.h. */
#include "dlist.h"

#include <stddef.h>

void dlist_push(dlist_node **head, dlist_node *n)
{
    n->prev = NULL;
    n->next = *head;
    if (*head)
        (*head)->prev = n;
    *head = n;
}

void dlist_unlink(dlist_node **head, dlist_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        *head = n->next;
    if (n->next)
        n->next->prev = n->prev;
}
