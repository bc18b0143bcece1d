/* Intrusive doubly linked lists (circular, with a sentinel head). */
#ifndef KERNEL_LIST_H
#define KERNEL_LIST_H
#include "types.h"

struct list { struct list *next, *prev; };

#define LIST_INIT(name) { &(name), &(name) }
static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline bool list_empty(const struct list *l) { return l->next == l; }
static inline void list_add_tail(struct list *l, struct list *n)
{
    n->prev = l->prev;
    n->next = l;
    l->prev->next = n;
    l->prev = n;
}
static inline void list_del(struct list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}
static inline struct list *list_pop(struct list *l)
{
    if (list_empty(l))
        return 0;
    struct list *n = l->next;
    list_del(n);
    return n;
}
#define list_for_each_safe(pos, tmp, head) \
    for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif
