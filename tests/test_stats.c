/* reports/stats: percentiles, moments, histograms and throughput against
 * values computed by hand on small arrays, and clean errors on bad input. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reports/stats.h"

#define EPS 1e-9

/* cmocka's assert_float_equal works in float; these values need double. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (eps %g)\n", a, b, eps);
        _fail(file, line);
    }
}

static void percentiles_one_to_ten(void **state)
{
    (void)state;
    /* Shuffled so that the sort is exercised; caller's order must survive. */
    const double v[10] = {7, 1, 10, 3, 9, 2, 8, 4, 6, 5};
    double before[10];
    memcpy(before, v, sizeof v);
    struct stats_summary s;
    char err[128];
    assert_int_equal(stats_summarize(v, 10, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 10);
    assert_memory_equal(v, before, sizeof v);
    assert_near(s.min, 1.0, EPS);
    assert_near(s.max, 10.0, EPS);
    assert_near(s.mean, 5.5, EPS);
    /* Position q*(n-1): 4.5 -> 5.5; 8.1 -> 9 + 0.1; 8.91 -> 9 + 0.91. */
    assert_near(s.p50, 5.5, EPS);
    assert_near(s.p90, 9.1, EPS);
    assert_near(s.p99, 9.91, EPS);
    /* Sample variance of 1..10 is 110/12. */
    assert_near(s.stddev, sqrt(110.0 / 12.0), 1e-12);
}

static void stddev_is_sample_stddev(void **state)
{
    (void)state;
    const double v[8] = {2, 4, 4, 4, 5, 5, 7, 9};
    struct stats_summary s;
    assert_int_equal(stats_summarize(v, 8, &s, NULL, 0), 0);
    assert_near(s.mean, 5.0, EPS);
    /* Sum of squared deviations is 32; sample sd divides by 7. */
    assert_near(s.stddev, sqrt(32.0 / 7.0), 1e-12);
    assert_near(s.p50, 4.5, EPS);
}

static void single_and_empty(void **state)
{
    (void)state;
    const double one = 42.0;
    struct stats_summary s;
    assert_int_equal(stats_summarize(&one, 1, &s, NULL, 0), 0);
    assert_int_equal(s.n, 1);
    assert_near(s.p50, 42.0, EPS);
    assert_near(s.p99, 42.0, EPS);
    assert_near(s.max, 42.0, EPS);
    assert_near(s.stddev, 0.0, EPS);
    s.mean = 99;
    assert_int_equal(stats_summarize(NULL, 0, &s, NULL, 0), 0);
    assert_int_equal(s.n, 0);
    assert_near(s.mean, 0.0, EPS);
}

static void nan_is_an_error(void **state)
{
    (void)state;
    const double v[3] = {1.0, NAN, 3.0};
    struct stats_summary s;
    char err[128] = "";
    assert_int_equal(stats_summarize(v, 3, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "sample 1"));
    struct stats_histogram h;
    assert_int_equal(stats_histogram(v, 3, 0, 10, 5, STATS_SCALE_LINEAR, &h, err, sizeof err), -1);
}

static void summaries_per_kind(void **state)
{
    (void)state;
    const int kinds[6] = {0, 1, 0, 1, 0, 1};
    const double lat[6] = {10, 100, 30, 300, 20, 200};
    struct stats_summary s[3];
    char err[128];
    assert_int_equal(stats_summarize_by_kind(kinds, lat, 6, 3, s, err, sizeof err), 0);
    assert_int_equal(s[0].n, 3);
    assert_near(s[0].p50, 20.0, EPS);
    assert_near(s[0].max, 30.0, EPS);
    assert_int_equal(s[1].n, 3);
    assert_near(s[1].p50, 200.0, EPS);
    assert_near(s[1].mean, 200.0, EPS);
    assert_near(s[1].p90, 280.0, EPS); /* 200 + 0.8*100 */
    assert_int_equal(s[2].n, 0);

    const int bad[2] = {0, 3};
    assert_int_equal(stats_summarize_by_kind(bad, lat, 2, 3, s, err, sizeof err), -1);
    assert_non_null(strstr(err, "kind 3"));
    assert_int_equal(stats_summarize_by_kind(kinds, lat, 6, 0, s, err, sizeof err), -1);
    assert_int_equal(stats_summarize_by_kind(kinds, lat, 6, STATS_KINDS_MAX + 1, s, err,
                                             sizeof err), -1);
}

static void histogram_linear_counts(void **state)
{
    (void)state;
    const double v[8] = {0, 0.5, 1, 1.5, 2, 9.99, 10, -1};
    struct stats_histogram h;
    char err[128];
    assert_int_equal(stats_histogram(v, 8, 0, 10, 5, STATS_SCALE_LINEAR, &h, err, sizeof err), 0);
    assert_int_equal(h.n_bins, 5);
    assert_int_equal(h.counts[0], 4);
    assert_int_equal(h.counts[1], 1);
    assert_int_equal(h.counts[2], 0);
    assert_int_equal(h.counts[3], 0);
    assert_int_equal(h.counts[4], 1);
    assert_int_equal(h.underflow, 1);
    assert_int_equal(h.overflow, 1);
    assert_near(h.edges[1], 2.0, EPS);
    assert_near(h.edges[5], 10.0, EPS);
}

static void histogram_log_counts(void **state)
{
    (void)state;
    const double v[8] = {1, 9.9, 11, 99, 101, 999, 1000, 0.5};
    struct stats_histogram h;
    char err[128];
    assert_int_equal(stats_histogram(v, 8, 1, 1000, 3, STATS_SCALE_LOG, &h, err, sizeof err), 0);
    assert_near(h.edges[1], 10.0, 1e-9);
    assert_near(h.edges[2], 100.0, 1e-9);
    assert_int_equal(h.counts[0], 2);
    assert_int_equal(h.counts[1], 2);
    assert_int_equal(h.counts[2], 2);
    assert_int_equal(h.underflow, 1);
    assert_int_equal(h.overflow, 1);
}

static void histogram_bad_arguments(void **state)
{
    (void)state;
    const double v[1] = {1};
    struct stats_histogram h;
    char err[128];
    assert_int_equal(stats_histogram(v, 1, 5, 5, 4, STATS_SCALE_LINEAR, &h, err, sizeof err), -1);
    assert_int_equal(stats_histogram(v, 1, 0, 5, 0, STATS_SCALE_LINEAR, &h, err, sizeof err), -1);
    assert_int_equal(stats_histogram(v, 1, 0, 5, STATS_HIST_BINS_MAX + 1, STATS_SCALE_LINEAR,
                                     &h, err, sizeof err), -1);
    assert_int_equal(stats_histogram(v, 1, 0, 5, 4, STATS_SCALE_LOG, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "lo > 0"));
    assert_int_equal(stats_histogram(v, 1, 0, INFINITY, 4, STATS_SCALE_LINEAR, &h, err,
                                     sizeof err), -1);
}

static void throughput_buckets(void **state)
{
    (void)state;
    const int64_t t[7] = {999, 0, 1000, 2500, 2999, 3000, -1};
    struct stats_throughput tp;
    char err[128];
    assert_int_equal(stats_throughput(t, 7, 0, 3000, 1000, &tp, err, sizeof err), 0);
    assert_int_equal(tp.n_buckets, 3);
    assert_int_equal(tp.counts[0], 2);
    assert_int_equal(tp.counts[1], 1);
    assert_int_equal(tp.counts[2], 2);
    assert_int_equal(tp.outside, 2);
    assert_int_equal(tp.peak, 2);
    /* 5 events in 3 microseconds. */
    assert_near(tp.mean_per_s, 5.0 / 3e-6, 1e-3);

    /* A partial last bucket still exists. */
    assert_int_equal(stats_throughput(t, 7, 0, 2501, 1000, &tp, err, sizeof err), 0);
    assert_int_equal(tp.n_buckets, 3);
    assert_int_equal(tp.counts[2], 1);
    assert_int_equal(tp.outside, 3);

    assert_int_equal(stats_throughput(t, 7, 0, 3000, 0, &tp, err, sizeof err), -1);
    assert_int_equal(stats_throughput(t, 7, 10, 10, 1, &tp, err, sizeof err), -1);
    assert_int_equal(stats_throughput(t, 7, 0, (int64_t)STATS_BUCKETS_MAX + 1, 1, &tp, err,
                                      sizeof err), -1);
    assert_non_null(strstr(err, "buckets"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles_one_to_ten),
        cmocka_unit_test(stddev_is_sample_stddev),
        cmocka_unit_test(single_and_empty),
        cmocka_unit_test(nan_is_an_error),
        cmocka_unit_test(summaries_per_kind),
        cmocka_unit_test(histogram_linear_counts),
        cmocka_unit_test(histogram_log_counts),
        cmocka_unit_test(histogram_bad_arguments),
        cmocka_unit_test(throughput_buckets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
