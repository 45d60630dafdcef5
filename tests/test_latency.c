/* Latency distributions: sample moments against closed forms (fixed seed),
 * and the spec parser on good and bad inputs with error columns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gsl/gsl_statistics_double.h>

#include "net-model/latency.h"

#define SAMPLES 200000

static double *samples;

static int setup(void **state)
{
    (void)state;
    samples = malloc(SAMPLES * sizeof *samples);
    return samples ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(samples);
    return 0;
}

static struct net_latency parse_ok(const char *spec)
{
    struct net_latency lat;
    char err[200];
    size_t col = 999;
    int rc = net_latency_parse(&lat, spec, err, sizeof err, &col);
    if (rc != 0)
        fail_msg("spec '%s' rejected: %s (col %zu)", spec, err);
    return lat;
}

/* Draws SAMPLES values and checks the mean within 5 standard errors and the
 * variance within `var_tol` (relative). */
static void check_moments(const char *spec, double var_tol)
{
    struct net_latency lat = parse_ok(spec);
    struct sim_rng rng;
    assert_int_equal(sim_rng_open(&rng, 42, "network", 0), 0);
    for (size_t i = 0; i < SAMPLES; i++)
        samples[i] = (double)net_latency_sample(&lat, &rng);
    sim_rng_close(&rng);
    double mean = gsl_stats_mean(samples, 1, SAMPLES);
    double var = gsl_stats_variance(samples, 1, SAMPLES);
    double want_mean = net_latency_mean_ns(&lat), want_var = net_latency_variance_ns2(&lat);
    double se = sqrt(want_var / SAMPLES);
    if (fabs(mean - want_mean) > 5 * se + 1.0)
        fail_msg("%s: mean %.1f, expected %.1f (se %.2f)", spec, mean, want_mean, se);
    if (fabs(var - want_var) > var_tol * want_var + 1.0)
        fail_msg("%s: variance %.4g, expected %.4g", spec, var, want_var);
    for (size_t i = 0; i < SAMPLES; i++)
        assert_true(samples[i] >= 0);
}

static void constant_moments(void **state)
{
    (void)state;
    check_moments("constant 1ms", 0.0);
    struct net_latency lat = parse_ok("constant 1ms");
    assert_true(net_latency_mean_ns(&lat) == 1e6);
}

static void uniform_moments(void **state)
{
    (void)state;
    check_moments("uniform 1ms 5ms", 0.02);
}

static void normal_moments(void **state)
{
    (void)state;
    check_moments("normal 2ms 0.5ms", 0.02);
}

/* A mean of zero truncates half the mass: the half-normal moments. */
static void normal_truncated_at_zero(void **state)
{
    (void)state;
    check_moments("normal 0ms 1ms", 0.02);
    struct net_latency lat = parse_ok("normal 0ms 1ms");
    double sd = 1e6;
    assert_true(fabs(net_latency_mean_ns(&lat) - sd * sqrt(2 / M_PI)) < 1.0);
    assert_true(fabs(net_latency_variance_ns2(&lat) - sd * sd * (1 - 2 / M_PI)) < 1e3);
}

static void lognormal_moments(void **state)
{
    (void)state;
    check_moments("lognormal 0 0.5", 0.05);
    check_moments("lognormal 2ms 0.25", 0.05);
    struct net_latency a = parse_ok("lognormal 2ms 0.25");
    assert_true(fabs(a.p1 - log(2.0)) < 1e-12);
}

static void pareto_moments(void **state)
{
    (void)state;
    check_moments("pareto 1ms 6", 0.10);
    struct net_latency heavy = parse_ok("pareto 1ms 1.5");
    assert_true(isinf(net_latency_variance_ns2(&heavy)));
    assert_true(isfinite(net_latency_mean_ns(&heavy)));
    /* Never below the scale: the minimum of a Pareto is its scale. */
    struct sim_rng rng;
    assert_int_equal(sim_rng_open(&rng, 1, "network", 0), 0);
    for (int i = 0; i < 10000; i++)
        assert_true(net_latency_sample(&heavy, &rng) >= 1000000);
    sim_rng_close(&rng);
}

/* Heavy tails are clamped, never overflow. */
static void samples_are_capped(void **state)
{
    (void)state;
    struct net_latency lat = parse_ok("pareto 10s 0.05");
    struct sim_rng rng;
    assert_int_equal(sim_rng_open(&rng, 3, "network", 0), 0);
    int capped = 0;
    for (int i = 0; i < 1000; i++) {
        sim_time_ns x = net_latency_sample(&lat, &rng);
        assert_true(x <= NET_LATENCY_MAX_NS);
        capped += x == NET_LATENCY_MAX_NS;
    }
    assert_true(capped > 0);
    sim_rng_close(&rng);
}

static void same_seed_same_draws(void **state)
{
    (void)state;
    struct net_latency lat = parse_ok("normal 2ms 1ms");
    struct sim_rng a, b;
    assert_int_equal(sim_rng_open(&a, 9, "network", 0), 0);
    assert_int_equal(sim_rng_open(&b, 9, "network", 0), 0);
    for (int i = 0; i < 1000; i++)
        assert_true(net_latency_sample(&lat, &a) == net_latency_sample(&lat, &b));
    sim_rng_close(&a);
    sim_rng_close(&b);
}

static void units_and_format_roundtrip(void **state)
{
    (void)state;
    struct { const char *spec; double p1, p2; } cases[] = {
        {"constant 250us", 250e3, 0},
        {"  constant\t1s ", 1e9, 0},
        {"uniform 1500ns 2.5ms", 1500, 2.5e6},
        {"normal 2ms 0.5ms", 2e6, 0.5e6},
        {"pareto 1ms 2.5", 1e6, 2.5},
        {"lognormal -1 0.3", -1, 0.3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct net_latency lat = parse_ok(cases[i].spec);
        assert_true(lat.p1 == cases[i].p1);
        assert_true(lat.p2 == cases[i].p2);
        char buf[128];
        net_latency_format(&lat, buf, sizeof buf);
        struct net_latency back = parse_ok(buf);
        assert_int_equal(back.kind, lat.kind);
        assert_true(fabs(back.p1 - lat.p1) <= 1e-9 * fabs(lat.p1));
        assert_true(back.p2 == lat.p2);
    }
}

static void bad_specs_give_column(void **state)
{
    (void)state;
    struct { const char *spec; size_t col; const char *needle; } cases[] = {
        {"", 0, "empty"},
        {"   ", 0, "empty"},
        {"gaussian 1ms 2ms", 0, "unknown distribution 'gaussian'"},
        {"constant", 8, "expected"},
        {"constant 1ms 2ms", 13, "expected"},
        {"constant 5", 9, "unit"},
        {"constant 5 ms", 11, "expected"},
        {"constant 5parsecs", 9, "unit"},
        {"constant -1ms", 9, "negative"},
        {"uniform 5ms 1ms", 12, "HI must be >= LO"},
        {"normal -1ms 1ms", 7, "MEAN"},
        {"normal 1ms -1ms", 11, "SD"},
        {"pareto 0ms 2", 7, "SCALE"},
        {"pareto 1ms 0", 11, "SHAPE"},
        {"pareto 1ms 2ms", 11, "bad parameter"},
        {"lognormal 1 -0.5", 12, "SIGMA"},
        {"lognormal 0ms 0.5", 10, "bad parameter"},
        {"constant infms", 9, "bad parameter"},
        {"constant nanms", 9, "bad parameter"},
        {"constant 0x10ms", 9, "bad parameter"},
        {"uniform 1ms 2ms 3ms 4ms", 20, "too many"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct net_latency lat = net_latency_constant(77);
        char err[200] = "";
        size_t col = 999;
        int rc = net_latency_parse(&lat, cases[i].spec, err, sizeof err, &col);
        if (rc != -1)
            fail_msg("spec '%s' accepted", cases[i].spec);
        if (col != cases[i].col)
            fail_msg("spec '%s': column %zu, expected %zu (%s)", cases[i].spec, col, cases[i].col, err);
        if (!strstr(err, cases[i].needle))
            fail_msg("spec '%s': message '%s' lacks '%s'", cases[i].spec, err, cases[i].needle);
        assert_true(lat.p1 == 77); /* untouched on error */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constant_moments),
        cmocka_unit_test(uniform_moments),
        cmocka_unit_test(normal_moments),
        cmocka_unit_test(normal_truncated_at_zero),
        cmocka_unit_test(lognormal_moments),
        cmocka_unit_test(pareto_moments),
        cmocka_unit_test(samples_are_capped),
        cmocka_unit_test(same_seed_same_draws),
        cmocka_unit_test(units_and_format_roundtrip),
        cmocka_unit_test(bad_specs_give_column),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
