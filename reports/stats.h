/* Run statistics: percentiles, mean and standard deviation, histograms of
 * latencies (overall and per operation kind), and throughput over time
 * buckets. Plain arrays in, plain structs out; libgsl does the sorting,
 * quantiles and histogram binning.
 *
 * Owns: nothing between calls. Every result struct is fixed-size (bins and
 * buckets have stated maxima) so a report can keep it on the stack.
 * Must never: abort on bad input (NaN, empty ranges, too many bins) — those
 * are errors returned with a message — or reorder the caller's array. */
#ifndef ZABLAB_REPORTS_STATS_H
#define ZABLAB_REPORTS_STATS_H

#include <stddef.h>
#include <stdint.h>

#define STATS_HIST_BINS_MAX 256
#define STATS_BUCKETS_MAX 4096
#define STATS_KINDS_MAX 32
/* A summary copies its input to sort it; more samples than this are refused
 * rather than allocated (one run records far fewer operations). */
#define STATS_SAMPLES_MAX (16u * 1024u * 1024u)

/* Quantiles use linear interpolation between closest ranks, as
 * gsl_stats_quantile_from_sorted_data: q at position q*(n-1).
 * stddev is the sample standard deviation (n-1 divisor), 0 when n < 2.
 * With n == 0 every field except n is 0. */
struct stats_summary {
    size_t n;
    double mean;
    double stddev;
    double min;
    double p50;
    double p90;
    double p99;
    double max;
};

enum stats_scale {
    STATS_SCALE_LINEAR = 0, /* equal-width bins */
    STATS_SCALE_LOG = 1,    /* bins of equal ratio; lo must be > 0 */
};

/* Bin i counts values in [edges[i], edges[i+1]). Values below edges[0] go to
 * underflow, values >= edges[n_bins] to overflow. */
struct stats_histogram {
    size_t n_bins;
    double edges[STATS_HIST_BINS_MAX + 1];
    uint64_t counts[STATS_HIST_BINS_MAX];
    uint64_t underflow;
    uint64_t overflow;
};

/* Bucket i counts events with start_ns + i*bucket_ns <= t < start + (i+1)*bucket.
 * Events outside [start_ns, end_ns) are counted in `outside`. */
struct stats_throughput {
    int64_t start_ns;
    int64_t bucket_ns;
    size_t n_buckets;
    uint64_t counts[STATS_BUCKETS_MAX];
    uint64_t outside;
    uint64_t peak;         /* largest bucket count */
    double mean_per_s;     /* events inside the window per simulated second */
};

/* Quantile q in [0,1] of an ascending array (n >= 1). */
double stats_quantile_sorted(const double *sorted, size_t n, double q);

/* Summarizes `values` (not modified). Returns 0, or -1 with a message in
 * err for NaN input, n > STATS_SAMPLES_MAX or allocation failure. */
int stats_summarize(const double *values, size_t n, struct stats_summary *out,
                    char *err, size_t errlen);

/* Same on an array the caller allows to be sorted in place (no allocation). */
int stats_summarize_inplace(double *values, size_t n, struct stats_summary *out,
                            char *err, size_t errlen);

/* One summary per kind: sample i has kind kinds[i] (0 <= kind < n_kinds <=
 * STATS_KINDS_MAX) and value values[i]. out has n_kinds entries. */
int stats_summarize_by_kind(const int *kinds, const double *values, size_t n,
                            size_t n_kinds, struct stats_summary *out,
                            char *err, size_t errlen);

/* Histogram over [lo, hi) with n_bins (1..STATS_HIST_BINS_MAX) bins. NaN
 * values are an error. */
int stats_histogram(const double *values, size_t n, double lo, double hi, size_t n_bins,
                    enum stats_scale scale, struct stats_histogram *out,
                    char *err, size_t errlen);

/* Throughput of events at times_ns[] (any order) over [start_ns, end_ns) in
 * buckets of bucket_ns; at most STATS_BUCKETS_MAX buckets (the last may be
 * partial). */
int stats_throughput(const int64_t *times_ns, size_t n, int64_t start_ns, int64_t end_ns,
                     int64_t bucket_ns, struct stats_throughput *out,
                     char *err, size_t errlen);

#endif
