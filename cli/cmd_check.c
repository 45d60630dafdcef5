/* `zablab check`: judges a recorded history with the linearizability checker,
 * the ZooKeeper consistency checker, or both, and prints the verdict.
 * Exit codes: 0 ok, 1 violation, 2 bad input or usage, 3 internal error,
 * 5 unknown (a budget ran out before a verdict; no violation was found).
 * Owns argument parsing and output only; the judging lives in check/. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/history.h"
#include "check/linearizable.h"
#include "check/recipes.h"
#include "check/zk_consistency.h"
#include "cli/commands.h"

struct check_args {
    const char *path;
    enum chk_format input;
    bool json;
    bool model_set, ignore_zxids;
    enum chk_model_kind model;
    bool recipe_set;
    enum chk_recipe_kind recipe;   /* --model lock|queue|config|leader */
    const char *checker;      /* linear | zk | all | NULL = by model */
    enum chk_sync_mode sync_mode;
    int64_t budget_ms;
};

static void check_usage(FILE *out)
{
    fprintf(out,
        "usage: zablab check HISTORY [--format text|json|jsonl|edn] [--input auto|jsonl|edn]\n"
        "                    [--model register|kv|zk|lock|queue|config|leader|barrier]\n"
        "                    [--checker linear|zk|all]\n"
        "                    [--sync-mode strict|zk] [--budget-ms N] [--ignore-zxids] [--help]\n"
        "\n"
        "Judges a history (JSON Lines or Jepsen EDN; '-' reads stdin).\n"
        "  --format      output: text (default) or json; jsonl or edn name the\n"
        "                history's format instead (as --input does)\n"
        "  --input       input format; auto picks by name (.edn, .jsonl), else EDN\n"
        "                for lines starting '{:'\n"
        "  --model       register, kv or zk; default: from the operations. lock,\n"
        "                queue, config, leader or barrier judge only that\n"
        "                recipe's outcomes (lock-exclusive, queue-exact,\n"
        "                config-converges, leader-unique, barrier-sync);\n"
        "                without --model every recipe whose\n"
        "                outcomes the history holds is judged too\n"
        "  --checker     linear (black-box linearizability), zk (ZooKeeper's ordered\n"
        "                sequential consistency) or all; default: zk for zk\n"
        "                histories, linear otherwise\n"
        "  --sync-mode   strict: sync ordered like a write; zk (default): ZooKeeper's\n"
        "                guarantee, reads after sync see writes completed before it\n"
        "  --budget-ms   give up after N ms of search and answer unknown\n"
        "  --ignore-zxids  judge as if the history recorded no zxids\n"
        "exit: 0 ok, 1 violation, 2 bad input or usage, 3 internal error, 5 unknown\n");
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Returns -1 to continue, or an exit code. */
static int parse_check_args(int argc, char **argv, struct check_args *a)
{
    memset(a, 0, sizeof *a);
    a->sync_mode = CHK_SYNC_ZK;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            check_usage(stdout);
            return 0;
        } else if (!strcmp(o, "--ignore-zxids")) {
            a->ignore_zxids = true;
            continue;
        } else if (o[0] == '-' && o[1] == '-' && !v) {
            ok = false;
        } else if (!strcmp(o, "--format") && (!strcmp(v, "jsonl") || !strcmp(v, "edn"))) {
            /* the history's format: the same as --input */
            a->input = !strcmp(v, "edn") ? CHK_FMT_EDN : CHK_FMT_JSONL;
        } else if (!strcmp(o, "--format")) {
            ok = !strcmp(v, "json") || !strcmp(v, "text");
            a->json = !strcmp(v, "json");
        } else if (!strcmp(o, "--input")) {
            ok = !strcmp(v, "auto") || !strcmp(v, "jsonl") || !strcmp(v, "edn");
            a->input = !strcmp(v, "edn") ? CHK_FMT_EDN : !strcmp(v, "jsonl") ? CHK_FMT_JSONL : CHK_FMT_AUTO;
        } else if (!strcmp(o, "--model") && chk_recipe_parse(v, &a->recipe) == 0) {
            a->recipe_set = true;
        } else if (!strcmp(o, "--model")) {
            a->model = chk_model_parse(v, &ok);
            a->model_set = true;
        } else if (!strcmp(o, "--checker")) {
            ok = !strcmp(v, "linear") || !strcmp(v, "zk") || !strcmp(v, "all");
            a->checker = v;
        } else if (!strcmp(o, "--sync-mode")) {
            ok = !strcmp(v, "strict") || !strcmp(v, "zk");
            a->sync_mode = !strcmp(v, "strict") ? CHK_SYNC_STRICT : CHK_SYNC_ZK;
        } else if (!strcmp(o, "--budget-ms")) {
            ok = parse_i64(v, &a->budget_ms) == 0;
        } else if (o[0] != '-' || !strcmp(o, "-")) {
            if (a->path) {
                fprintf(stderr, "zablab check: more than one history given\n");
                return 2;
            }
            a->path = o;
            continue;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "zablab check: bad option %s%s%s\n", o, v ? " " : "", v ? v : "");
            check_usage(stderr);
            return 2;
        }
        i++;
    }
    if (!a->path) {
        check_usage(stderr);
        return 2;
    }
    return -1;
}

/* The model the operations belong to; -1 when they mix models. */
static int infer_model(const struct chk_history *h, enum chk_model_kind *out)
{
    bool reg = false, kv = false, zk = false;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        enum chk_f f = h->ops[i].f;
        reg |= f <= CHK_F_CAS;
        kv |= f >= CHK_F_GET && f <= CHK_F_APPEND;
        zk |= f >= CHK_F_CREATE;
    }
    if (reg + kv + zk > 1)
        return -1;
    *out = zk ? CHK_MODEL_ZK : kv ? CHK_MODEL_KV : CHK_MODEL_REGISTER;
    return 0;
}

struct verdict_out {
    const char *checker;
    enum chk_verdict v;
    const char *msg;
};

static int worst(int a, int b)
{
    /* violation beats unknown beats ok; errors beat everything */
    static const int rank[6] = {0, 3, 4, 5, 0, 2};
    return rank[b] > rank[a] ? b : a;
}

static void print_results(const struct check_args *a, const struct chk_history *h,
                          const struct verdict_out *r, int n, int code)
{
    if (!a->json) {
        for (int i = 0; i < n; i++)
            printf("%s: %s: %s\n", r[i].checker, chk_verdict_name(r[i].v), r[i].msg);
        return;
    }
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "history", json_string(a->path));
    json_object_set_new(root, "operations", json_integer(h->n_ops));
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "checker", json_string(r[i].checker));
        json_object_set_new(o, "verdict", json_string(chk_verdict_name(r[i].v)));
        json_object_set_new(o, "message", json_string(r[i].msg));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "results", arr);
    json_object_set_new(root, "exit", json_integer(code));
    char *s = json_dumps(root, JSON_COMPACT);
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(root);
}

/* The recipe checkers: the one --model names, or each with outcomes in h. */
static int run_recipes(const struct check_args *a, const struct chk_history *h,
                       struct verdict_out *out, int *n, struct chk_recipe_result *rr)
{
    int code = 0;
    for (int k = 0; k < CHK_RECIPE_COUNT; k++) {
        enum chk_recipe_kind kind = (enum chk_recipe_kind)k;
        if (a->recipe_set ? kind != a->recipe : !chk_recipe_present(h, kind))
            continue;
        chk_recipe_check(h, kind, &rr[k]);
        out[(*n)++] = (struct verdict_out){chk_recipe_property(kind), rr[k].verdict, rr[k].msg};
        code = worst(code, (int)rr[k].verdict);
    }
    return code;
}

int cmd_check(int argc, char **argv)
{
    struct check_args a;
    int rc = parse_check_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    char err[1024];
    struct chk_history *full = chk_history_load(a.path, a.input, err, sizeof err);
    if (!full) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    static struct chk_recipe_result rr[CHK_RECIPE_COUNT];
    struct verdict_out out[2 + CHK_RECIPE_COUNT];
    int n = 0, code = run_recipes(&a, full, out, &n, rr);
    /* the znode operations without the recipe outcomes, for the other checkers */
    struct chk_history *h = a.recipe_set ? NULL : chk_history_without_recipes(full, err, sizeof err);
    if (!a.recipe_set && !h) {
        fprintf(stderr, "%s\n", err);
        chk_history_free(full);
        return 3;
    }
    enum chk_model_kind model = a.model;
    if (h && !a.model_set && infer_model(h, &model)) {
        fprintf(stderr, "%s: the history mixes register, kv and zk operations\n", a.path);
        chk_history_free(h);
        chk_history_free(full);
        return 2;
    }
    /* a history of recipe outcomes only has nothing else to judge */
    bool others = h && (h->n_ops > 0 || n == 0);
    const char *checker = a.checker ? a.checker : model == CHK_MODEL_ZK ? "zk" : "linear";
    /* "all" runs every checker that applies: the zk checker reads zk ops only */
    bool run_zk = others && (!strcmp(checker, "zk") || (!strcmp(checker, "all") && model == CHK_MODEL_ZK));
    bool run_lin = others && (!strcmp(checker, "linear") || !strcmp(checker, "all"));
    static struct chk_lin_result lr;
    static struct chk_zk_result zr;
    if (run_zk) {
        struct chk_zk_opts zo = {a.sync_mode, a.budget_ms, 0, a.ignore_zxids};
        out[n++] = (struct verdict_out){"zk", chk_zk_check(h, &zo, &zr), zr.msg};
        code = worst(code, (int)zr.verdict);
    }
    if (run_lin) {
        struct chk_lin_opts lo = {model, a.budget_ms, 0};
        out[n++] = (struct verdict_out){"linear", chk_linearizable(h, &lo, &lr), lr.msg};
        code = worst(code, (int)lr.verdict);
    }
    print_results(&a, full, out, n, code);
    chk_lin_result_free(&lr);
    chk_history_free(h);
    chk_history_free(full);
    return code;
}
