/* server/loop: timers fire in (time, insertion) order and only when due,
 * cancel removes exactly one, the heap bound is enforced, fds dispatch
 * their interest, and an event for an fd removed earlier in the same batch
 * is not delivered. The Makefile links tests with the library only, which
 * holds no server/ code, so the module is compiled in here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"
#include "server/loop.h"

struct rec {
    int order[64];
    int n;
};

struct tagged {
    struct rec *rec;
    int tag;
};

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
    (void)l, (void)id;
    struct tagged *t = arg;
    t->rec->order[t->rec->n++] = t->tag;
}

static void timers_fire_in_time_then_insertion_order(void **state)
{
    (void)state;
    char err[128];
    struct loop *l = loop_new(err, sizeof err);
    assert_non_null(l);
    struct rec rec = {{0}, 0};
    uint64_t now = loop_clock_ms();
    /* Due times out of order; tags 3 and 4 share a time. */
    struct tagged t[6] = {{&rec, 1}, {&rec, 2}, {&rec, 3}, {&rec, 4}, {&rec, 5}, {&rec, 6}};
    uint64_t at[6] = {now + 30, now + 10, now + 20, now + 20, now + 5, now + 100000};
    uint64_t ids[6];
    for (int i = 0; i < 6; i++) {
        ids[i] = loop_timer_add(l, at[i], on_timer, &t[i]);
        assert_true(ids[i] > 0);
    }
    loop_timer_cancel(l, ids[0]);        /* tag 1 never fires */
    loop_timer_cancel(l, 999999);        /* unknown: no-op */
    assert_int_equal(loop_timer_count(l), 5);
    uint64_t end = now + 2000;
    while (rec.n < 4 && loop_clock_ms() < end)
        assert_int_equal(loop_run_once(l, 50), 0);
    assert_int_equal(rec.n, 4);
    int want[4] = {5, 2, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_int_equal(rec.order[i], want[i]);
    /* The far one is still armed and did not fire early. */
    assert_int_equal(loop_timer_count(l), 1);
    loop_free(l);
}

static void timer_heap_is_bounded(void **state)
{
    (void)state;
    char err[128];
    struct loop *l = loop_new(err, sizeof err);
    struct rec rec = {{0}, 0};
    struct tagged t = {&rec, 1};
    uint64_t far = loop_clock_ms() + 1000000;
    for (uint32_t i = 0; i < LOOP_TIMERS_MAX; i++)
        assert_true(loop_timer_add(l, far - i, on_timer, &t) > 0);
    assert_int_equal(loop_timer_add(l, far, on_timer, &t), 0);
    assert_int_equal(loop_timer_count(l), LOOP_TIMERS_MAX);
    loop_free(l);
}

struct fd_ctx {
    int fds[2][2];        /* two pipes */
    int calls[2];
    int masks[2];
    int del_other;        /* the first callback removes the other pipe's fd */
};

static void on_fd(struct loop *l, int fd, int mask, void *arg)
{
    struct fd_ctx *c = arg;
    int which = fd == c->fds[0][0] ? 0 : 1;
    c->calls[which]++;
    c->masks[which] = mask;
    char b[16];
    ssize_t n = read(fd, b, sizeof b);
    (void)n;
    if (c->del_other)
        loop_fd_del(l, c->fds[1 - which][0]);
}

static void fds_dispatch_and_stale_events_are_skipped(void **state)
{
    (void)state;
    char err[128];
    struct loop *l = loop_new(err, sizeof err);
    struct fd_ctx c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe2(c.fds[i], O_NONBLOCK), 0);
        assert_int_equal(loop_fd_add(l, c.fds[i][0], LOOP_READABLE, on_fd, &c), 0);
    }
    assert_int_equal(loop_fd_add(l, c.fds[0][0], LOOP_READABLE, on_fd, &c), -1);  /* twice */
    assert_int_equal(loop_fd_add(l, LOOP_FDS_MAX, LOOP_READABLE, on_fd, &c), -1);
    assert_int_equal(loop_run_once(l, 0), 0);
    assert_int_equal(c.calls[0] + c.calls[1], 0);     /* nothing readable yet */
    /* Both readable in one batch; whichever runs first removes the other. */
    c.del_other = 1;
    assert_int_equal(write(c.fds[0][1], "x", 1), 1);
    assert_int_equal(write(c.fds[1][1], "y", 1), 1);
    assert_int_equal(loop_run_once(l, 100), 0);
    assert_int_equal(c.calls[0] + c.calls[1], 1);
    assert_true(c.masks[0] == LOOP_READABLE || c.masks[1] == LOOP_READABLE);
    /* Write interest on a pipe's write end is reported as WRITABLE. */
    c.del_other = 0;
    memset(c.calls, 0, sizeof c.calls);
    int wfd = c.fds[0][1];
    assert_int_equal(loop_fd_add(l, wfd, LOOP_WRITABLE, on_fd, &c), 0);
    assert_int_equal(loop_fd_mask(l, wfd), LOOP_WRITABLE);
    assert_int_equal(loop_run_once(l, 100), 0);
    assert_int_equal(c.masks[1], LOOP_WRITABLE);   /* wfd is not fds[0][0]: counted as 1 */
    assert_int_equal(loop_fd_set_mask(l, wfd, 0), 0);
    loop_fd_del(l, wfd);
    assert_int_equal(loop_fd_mask(l, wfd), -1);
    for (int i = 0; i < 2; i++)
        close(c.fds[i][0]), close(c.fds[i][1]);
    loop_free(l);
}

static void on_stop_timer(struct loop *l, uint64_t id, void *arg)
{
    (void)id;
    (*(int *)arg)++;
    loop_stop(l);
}

static int hook_calls;
static void on_before_sleep(struct loop *l, void *arg)
{
    (void)l, (void)arg;
    hook_calls++;
}

static void run_stops_and_hook_runs_before_sleep(void **state)
{
    (void)state;
    char err[128];
    struct loop *l = loop_new(err, sizeof err);
    int fired = 0;
    loop_set_before_sleep(l, on_before_sleep, NULL);
    uint64_t t0 = loop_clock_ms();
    loop_timer_add(l, t0 + 20, on_stop_timer, &fired);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(fired, 1);
    assert_true(loop_clock_ms() - t0 >= 20);
    assert_true(hook_calls >= 1);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_time_then_insertion_order),
        cmocka_unit_test(timer_heap_is_bounded),
        cmocka_unit_test(fds_dispatch_and_stale_events_are_skipped),
        cmocka_unit_test(run_stops_and_hook_runs_before_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
