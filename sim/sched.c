/* Binary min-heap of events keyed by (time, seq). The heap stores events by
 * value in one array sized at init, so steady-state scheduling allocates
 * nothing and the queue's memory is exactly cap * sizeof(struct sim_event). */
#include "sim/sched.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

static inline bool event_before(const struct sim_event *x, const struct sim_event *y)
{
    if (x->time != y->time)
        return x->time < y->time;
    return x->seq < y->seq;
}

int sim_sched_init(struct sim_sched *s, size_t capacity)
{
    *s = (struct sim_sched){0};
    /* A capacity from a config file is input, not an invariant: refuse 0
     * and sizes whose byte count would overflow instead of asserting. */
    if (capacity == 0 || capacity > SIZE_MAX / sizeof *s->heap)
        return -1;
    s->heap = malloc(capacity * sizeof *s->heap);
    if (!s->heap)
        return -1;
    s->cap = capacity;
    return 0;
}

void sim_sched_free(struct sim_sched *s)
{
    free(s->heap);
    *s = (struct sim_sched){0};
}

static void sift_up(struct sim_event *h, size_t i)
{
    struct sim_event ev = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!event_before(&ev, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = ev;
}

static void sift_down(struct sim_event *h, size_t len, size_t i)
{
    struct sim_event ev = h[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= len)
            break;
        if (child + 1 < len && event_before(&h[child + 1], &h[child]))
            child++;
        if (!event_before(&h[child], &ev))
            break;
        h[i] = h[child];
        i = child;
    }
    h[i] = ev;
}

enum sim_sched_status sim_sched_push(struct sim_sched *s, sim_time_ns t, uint32_t kind,
                                     int32_t node, uint64_t a, uint64_t b)
{
    if (t < s->now)
        return SIM_SCHED_PAST;
    if (s->len == s->cap)
        return SIM_SCHED_FULL;
    s->heap[s->len] = (struct sim_event){
        .time = t, .seq = s->next_seq++, .kind = kind, .node = node, .a = a, .b = b};
    sift_up(s->heap, s->len);
    s->len++;
    if (s->len > s->high_water)
        s->high_water = s->len;
    return SIM_SCHED_OK;
}

enum sim_sched_status sim_sched_after(struct sim_sched *s, sim_time_ns delay, uint32_t kind,
                                      int32_t node, uint64_t a, uint64_t b)
{
    sim_time_ns t = s->now + delay;
    if (t < s->now) /* overflow: an infinite delay never fires */
        t = SIM_TIME_NEVER;
    return sim_sched_push(s, t, kind, node, a, b);
}

bool sim_sched_pop(struct sim_sched *s, struct sim_event *ev)
{
    if (s->len == 0)
        return false;
    *ev = s->heap[0];
    s->len--;
    if (s->len > 0) {
        s->heap[0] = s->heap[s->len];
        sift_down(s->heap, s->len, 0);
    }
    assert(ev->time >= s->now);
    s->now = ev->time;
    s->popped++;
    return true;
}

sim_time_ns sim_sched_peek_time(const struct sim_sched *s)
{
    return s->len ? s->heap[0].time : SIM_TIME_NEVER;
}

const char *sim_sched_status_str(enum sim_sched_status st)
{
    switch (st) {
    case SIM_SCHED_OK: return "ok";
    case SIM_SCHED_FULL: return "event queue full (raise the scheduler capacity)";
    case SIM_SCHED_PAST: return "event scheduled in the past";
    }
    return "unknown";
}
