/* Run statistics on plain arrays (see stats.h). GSL's histogram is used on
 * arrays owned by the result struct, not gsl_histogram_alloc: that keeps the
 * default GSL error handler (which aborts) out of reach, because every
 * argument is validated before GSL sees it. */
#include "reports/stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_histogram.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

static int stats_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int stats_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int stats_check_values(const double *values, size_t n, char *err, size_t errlen)
{
    if (n > STATS_SAMPLES_MAX)
        return stats_fail(err, errlen, "stats: %zu samples exceed the maximum %u", n,
                          STATS_SAMPLES_MAX);
    for (size_t i = 0; i < n; i++)
        if (isnan(values[i]))
            return stats_fail(err, errlen, "stats: sample %zu is NaN", i);
    return 0;
}

double stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0.0;
    if (q <= 0.0)
        return sorted[0];
    if (q >= 1.0)
        return sorted[n - 1];
    return gsl_stats_quantile_from_sorted_data(sorted, 1, n, q);
}

int stats_summarize_inplace(double *values, size_t n, struct stats_summary *out,
                            char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (stats_check_values(values, n, err, errlen) != 0)
        return -1;
    out->n = n;
    if (n == 0)
        return 0;
    gsl_sort(values, 1, n);
    out->mean = gsl_stats_mean(values, 1, n);
    /* gsl_stats_sd divides by n-1: undefined for one sample. */
    out->stddev = n >= 2 ? gsl_stats_sd_m(values, 1, n, out->mean) : 0.0;
    out->min = values[0];
    out->p50 = stats_quantile_sorted(values, n, 0.50);
    out->p90 = stats_quantile_sorted(values, n, 0.90);
    out->p99 = stats_quantile_sorted(values, n, 0.99);
    out->max = values[n - 1];
    return 0;
}

int stats_summarize(const double *values, size_t n, struct stats_summary *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (stats_check_values(values, n, err, errlen) != 0)
        return -1;
    if (n == 0)
        return 0;
    double *copy = malloc(n * sizeof *copy);
    if (!copy)
        return stats_fail(err, errlen, "stats: out of memory for %zu samples", n);
    memcpy(copy, values, n * sizeof *copy);
    int rc = stats_summarize_inplace(copy, n, out, err, errlen);
    free(copy);
    return rc;
}

int stats_summarize_by_kind(const int *kinds, const double *values, size_t n,
                            size_t n_kinds, struct stats_summary *out,
                            char *err, size_t errlen)
{
    if (n_kinds == 0 || n_kinds > STATS_KINDS_MAX)
        return stats_fail(err, errlen, "stats: %zu kinds (must be 1..%d)", n_kinds,
                          STATS_KINDS_MAX);
    for (size_t k = 0; k < n_kinds; k++)
        memset(&out[k], 0, sizeof out[k]);
    if (stats_check_values(values, n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (kinds[i] < 0 || (size_t)kinds[i] >= n_kinds)
            return stats_fail(err, errlen, "stats: sample %zu has kind %d (must be 0..%zu)",
                              i, kinds[i], n_kinds - 1);
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return stats_fail(err, errlen, "stats: out of memory for %zu samples", n);
    int rc = 0;
    for (size_t k = 0; k < n_kinds && rc == 0; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)kinds[i] == k)
                buf[m++] = values[i];
        rc = stats_summarize_inplace(buf, m, &out[k], err, errlen);
    }
    free(buf);
    return rc;
}

static int stats_fill_edges(struct stats_histogram *h, double lo, double hi, size_t n_bins,
                            enum stats_scale scale, char *err, size_t errlen)
{
    if (n_bins == 0 || n_bins > STATS_HIST_BINS_MAX)
        return stats_fail(err, errlen, "histogram: %zu bins (must be 1..%d)", n_bins,
                          STATS_HIST_BINS_MAX);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return stats_fail(err, errlen, "histogram: range [%g, %g) is empty or not finite",
                          lo, hi);
    if (scale == STATS_SCALE_LOG && !(lo > 0.0))
        return stats_fail(err, errlen, "histogram: log scale needs lo > 0 (got %g)", lo);
    h->n_bins = n_bins;
    for (size_t i = 0; i <= n_bins; i++) {
        double f = (double)i / (double)n_bins;
        h->edges[i] = scale == STATS_SCALE_LOG ? lo * pow(hi / lo, f) : lo + (hi - lo) * f;
    }
    /* Exact ends, so that a value equal to hi is overflow whatever rounding did. */
    h->edges[0] = lo;
    h->edges[n_bins] = hi;
    for (size_t i = 0; i < n_bins; i++)
        if (!(h->edges[i] < h->edges[i + 1]))
            return stats_fail(err, errlen, "histogram: bins too narrow for [%g, %g)", lo, hi);
    return 0;
}

int stats_histogram(const double *values, size_t n, double lo, double hi, size_t n_bins,
                    enum stats_scale scale, struct stats_histogram *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (stats_check_values(values, n, err, errlen) != 0)
        return -1;
    if (stats_fill_edges(out, lo, hi, n_bins, scale, err, errlen) != 0)
        return -1;
    double bins[STATS_HIST_BINS_MAX];
    memset(bins, 0, sizeof bins);
    gsl_histogram h = {.n = n_bins, .range = out->edges, .bin = bins};
    for (size_t i = 0; i < n; i++) {
        if (values[i] < lo)
            out->underflow++;
        else if (values[i] >= hi)
            out->overflow++;
        else if (gsl_histogram_increment(&h, values[i]) != 0)
            return stats_fail(err, errlen, "histogram: cannot bin sample %zu (%g)", i,
                              values[i]);
    }
    /* Bin weights are sums of 1.0, exact as integers far beyond our maximum. */
    for (size_t b = 0; b < n_bins; b++)
        out->counts[b] = (uint64_t)bins[b];
    return 0;
}

int stats_throughput(const int64_t *times_ns, size_t n, int64_t start_ns, int64_t end_ns,
                     int64_t bucket_ns, struct stats_throughput *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (bucket_ns <= 0 || end_ns <= start_ns)
        return stats_fail(err, errlen, "throughput: need bucket_ns > 0 and end_ns > start_ns");
    /* Width computed in unsigned arithmetic: end - start may not fit int64. */
    uint64_t span_ns = (uint64_t)end_ns - (uint64_t)start_ns;
    uint64_t n_buckets = span_ns / (uint64_t)bucket_ns + (span_ns % (uint64_t)bucket_ns != 0);
    if (n_buckets > STATS_BUCKETS_MAX)
        return stats_fail(err, errlen, "throughput: %llu buckets exceed the maximum %d",
                          (unsigned long long)n_buckets, STATS_BUCKETS_MAX);
    out->start_ns = start_ns;
    out->bucket_ns = bucket_ns;
    out->n_buckets = (size_t)n_buckets;
    uint64_t inside = 0;
    for (size_t i = 0; i < n; i++) {
        if (times_ns[i] < start_ns || times_ns[i] >= end_ns) {
            out->outside++;
            continue;
        }
        uint64_t b = ((uint64_t)times_ns[i] - (uint64_t)start_ns) / (uint64_t)bucket_ns;
        out->counts[b]++;
        inside++;
    }
    for (size_t b = 0; b < out->n_buckets; b++)
        if (out->counts[b] > out->peak)
            out->peak = out->counts[b];
    out->mean_per_s = (double)inside / ((double)span_ns / 1e9);
    return 0;
}
