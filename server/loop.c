/* loop: see loop.h. The epoll data word carries (generation << 32 | fd), so
 * an event for an fd that a callback removed (and maybe reused) earlier in
 * the same batch is recognised as stale and skipped. */
#include "server/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct loop_fd {
    loop_fd_fn *fn;
    void *arg;
    int mask;          /* -1 = not watched */
    uint32_t gen;
};

struct loop_timer {
    uint64_t at_ms;
    uint64_t id;       /* increasing: also the tie-break for equal times */
    loop_timer_fn *fn;
    void *arg;
};

struct loop {
    int epfd;
    int stop;
    struct loop_fd fds[LOOP_FDS_MAX];
    struct loop_timer heap[LOOP_TIMERS_MAX];
    uint32_t n_timers;
    uint64_t next_timer_id;
    loop_hook_fn *before_sleep;
    void *before_sleep_arg;
};

uint64_t loop_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* +1: callers use 0 for "no time". */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 1u;
}

struct loop *loop_new(char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "loop: out of memory");
        return NULL;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        snprintf(err, errlen, "loop: epoll_create1: %s", strerror(errno));
        free(l);
        return NULL;
    }
    for (int i = 0; i < LOOP_FDS_MAX; i++)
        l->fds[i].mask = -1;
    l->next_timer_id = 1;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l);
}

static uint32_t epoll_bits(int mask)
{
    uint32_t ev = 0;
    if (mask & LOOP_READABLE)
        ev |= EPOLLIN;
    if (mask & LOOP_WRITABLE)
        ev |= EPOLLOUT;
    return ev;
}

static int ctl(struct loop *l, int op, int fd, int mask)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = epoll_bits(mask);
    ev.data.u64 = ((uint64_t)l->fds[fd].gen << 32) | (uint32_t)fd;
    return epoll_ctl(l->epfd, op, fd, &ev);
}

int loop_fd_add(struct loop *l, int fd, int mask, loop_fd_fn *fn, void *arg)
{
    if (fd < 0 || fd >= LOOP_FDS_MAX || l->fds[fd].mask >= 0 || !fn)
        return -1;
    struct loop_fd *f = &l->fds[fd];
    f->gen++;
    if (ctl(l, EPOLL_CTL_ADD, fd, mask) != 0)
        return -1;
    f->fn = fn;
    f->arg = arg;
    f->mask = mask & (LOOP_READABLE | LOOP_WRITABLE);
    return 0;
}

int loop_fd_set_mask(struct loop *l, int fd, int mask)
{
    if (fd < 0 || fd >= LOOP_FDS_MAX || l->fds[fd].mask < 0)
        return -1;
    mask &= LOOP_READABLE | LOOP_WRITABLE;
    if (mask == l->fds[fd].mask)
        return 0;
    if (ctl(l, EPOLL_CTL_MOD, fd, mask) != 0)
        return -1;
    l->fds[fd].mask = mask;
    return 0;
}

int loop_fd_mask(const struct loop *l, int fd)
{
    if (fd < 0 || fd >= LOOP_FDS_MAX)
        return -1;
    return l->fds[fd].mask;
}

void loop_fd_del(struct loop *l, int fd)
{
    if (fd < 0 || fd >= LOOP_FDS_MAX || l->fds[fd].mask < 0)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->fds[fd].mask = -1;
    l->fds[fd].fn = NULL;
    l->fds[fd].gen++;   /* events already fetched for fd are now stale */
}

/* ---- timer heap ------------------------------------------------------------ */

static int timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->id < b->id);
}

static void heap_swap(struct loop *l, uint32_t i, uint32_t j)
{
    struct loop_timer t = l->heap[i];
    l->heap[i] = l->heap[j];
    l->heap[j] = t;
}

static void sift_up(struct loop *l, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!timer_before(&l->heap[i], &l->heap[parent]))
            return;
        heap_swap(l, i, parent);
        i = parent;
    }
}

static void sift_down(struct loop *l, uint32_t i)
{
    for (;;) {
        uint32_t left = 2 * i + 1, right = left + 1, best = i;
        if (left < l->n_timers && timer_before(&l->heap[left], &l->heap[best]))
            best = left;
        if (right < l->n_timers && timer_before(&l->heap[right], &l->heap[best]))
            best = right;
        if (best == i)
            return;
        heap_swap(l, i, best);
        i = best;
    }
}

static void heap_remove_at(struct loop *l, uint32_t i)
{
    l->n_timers--;
    if (i == l->n_timers)
        return;
    l->heap[i] = l->heap[l->n_timers];
    sift_down(l, i);
    sift_up(l, i);
}

uint64_t loop_timer_add(struct loop *l, uint64_t at_ms, loop_timer_fn *fn, void *arg)
{
    if (l->n_timers >= LOOP_TIMERS_MAX || !fn)
        return 0;
    uint64_t id = l->next_timer_id++;
    uint32_t i = l->n_timers++;
    l->heap[i] = (struct loop_timer){at_ms, id, fn, arg};
    sift_up(l, i);
    return id;
}

void loop_timer_cancel(struct loop *l, uint64_t timer_id)
{
    /* Linear: at most LOOP_TIMERS_MAX, and zabd arms a handful. */
    for (uint32_t i = 0; i < l->n_timers; i++)
        if (l->heap[i].id == timer_id) {
            heap_remove_at(l, i);
            return;
        }
}

uint32_t loop_timer_count(const struct loop *l)
{
    return l->n_timers;
}

void loop_set_before_sleep(struct loop *l, loop_hook_fn *fn, void *arg)
{
    l->before_sleep = fn;
    l->before_sleep_arg = arg;
}

/* ---- running ---------------------------------------------------------------- */

static void fire_due_timers(struct loop *l)
{
    uint64_t now_ms = loop_clock_ms();
    /* Bounded: only timers due now; ones a callback adds for "now" wait for
     * the next iteration if they were added after this snapshot of ids. */
    uint64_t id_limit = l->next_timer_id;
    while (l->n_timers > 0 && l->heap[0].at_ms <= now_ms && l->heap[0].id < id_limit) {
        struct loop_timer t = l->heap[0];
        heap_remove_at(l, 0);
        t.fn(l, t.id, t.arg);
    }
}

static int wait_timeout_ms(const struct loop *l, uint64_t max_wait_ms)
{
    uint64_t wait_ms = max_wait_ms;
    if (l->n_timers > 0) {
        uint64_t now_ms = loop_clock_ms();
        uint64_t due_ms = l->heap[0].at_ms;
        uint64_t until_ms = due_ms > now_ms ? due_ms - now_ms : 0;
        if (until_ms < wait_ms)
            wait_ms = until_ms;
    }
    return wait_ms > 60000 ? 60000 : (int)wait_ms;
}

static void dispatch(struct loop *l, const struct epoll_event *ev)
{
    int fd = (int)(uint32_t)(ev->data.u64 & 0xffffffffu);
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if (fd < 0 || fd >= LOOP_FDS_MAX)
        return;
    struct loop_fd *f = &l->fds[fd];
    if (f->mask < 0 || f->gen != gen)
        return;
    int mask = 0;
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        mask |= LOOP_READABLE;
    if (ev->events & (EPOLLERR | EPOLLHUP))
        mask |= LOOP_ERROR;
    if (ev->events & EPOLLOUT)
        mask |= LOOP_WRITABLE;
    f->fn(l, fd, mask, f->arg);
}

int loop_run_once(struct loop *l, uint64_t max_wait_ms)
{
    if (l->before_sleep)
        l->before_sleep(l, l->before_sleep_arg);
    struct epoll_event evs[LOOP_EVENTS_PER_WAIT];
    int n = epoll_wait(l->epfd, evs, LOOP_EVENTS_PER_WAIT, wait_timeout_ms(l, max_wait_ms));
    if (n < 0 && errno != EINTR)
        return -1;
    for (int i = 0; i < n; i++)
        dispatch(l, &evs[i]);
    fire_due_timers(l);
    return 0;
}

int loop_run(struct loop *l)
{
    l->stop = 0;
    while (!l->stop)
        if (loop_run_once(l, 60000) != 0)
            return -1;
    return 0;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}
