/* History formats: JSON Lines and EDN readers, writers, pairing, and the
 * corpus of malformed files, each with the exact file:line:col message it
 * must produce (tests/data/histories/malformed/NAME.expect). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "check/hist_gen.h"
#include "check/history.h"

#define MALFORMED_DIR "tests/data/histories/malformed"

static struct chk_history *parse(const char *text, enum chk_format fmt, char *err, size_t errlen)
{
    return chk_history_parse("t", text, strlen(text), fmt, err, errlen);
}

static void malformed_corpus_gives_exact_positions(void **state)
{
    (void)state;
    DIR *d = opendir(MALFORMED_DIR);
    assert_non_null(d);
    int checked = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || (n > 7 && !strcmp(de->d_name + n - 7, ".expect")))
            continue;
        char path[512], exp_path[600], want[2048], expect[1024] = "", err[1024] = "";
        snprintf(path, sizeof path, "%s/%s", MALFORMED_DIR, de->d_name);
        snprintf(exp_path, sizeof exp_path, "%s.expect", path);
        FILE *f = fopen(exp_path, "r");
        assert_non_null(f);
        assert_non_null(fgets(expect, sizeof expect, f));
        fclose(f);
        expect[strcspn(expect, "\n")] = 0;
        struct chk_history *h = chk_history_load(path, CHK_FMT_AUTO, err, sizeof err);
        if (h)
            fail_msg("%s was accepted", path);
        snprintf(want, sizeof want, "%s:%s", path, expect);
        if (strcmp(err, want))
            fail_msg("%s:\n  got  %s\n  want %s", path, err, want);
        checked++;
    }
    closedir(d);
    assert_true(checked >= 30);
}

static void jsonl_zk_fields(void **state)
{
    (void)state;
    char err[256];
    const char *text =
        "{\"type\":\"invoke\",\"process\":3,\"session\":\"0x10\",\"f\":\"create\",\"path\":\"/q/n-\","
        "\"data\":\"d\",\"mode\":\"ephemeral_sequential\",\"time\":5}\n"
        "\n"
        "{\"type\":\"ok\",\"process\":3,\"session\":16,\"f\":\"create\",\"path\":\"/q/n-\","
        "\"created\":\"/q/n-0000000004\",\"zxid\":\"0x200000001\",\"time\":9,\"extra\":[1,2]}\n"
        "{\"type\":\"watch\",\"process\":3,\"event\":\"NodeChildrenChanged\",\"path\":\"/q\",\"zxid\":8589934593}\n"
        "{\"type\":\"invoke\",\"process\":4,\"f\":\"getChildren\",\"path\":\"/q\",\"watch\":true}\n"
        "{\"type\":\"ok\",\"process\":4,\"f\":\"getChildren\",\"path\":\"/q\",\"children\":[\"n-0000000004\",\"x\"]}\n";
    struct chk_history *h = parse(text, CHK_FMT_JSONL, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(h->n_events, 5);
    assert_int_equal(h->n_ops, 2);
    const struct chk_event *inv = &h->events[h->ops[0].inv], *ret = &h->events[h->ops[0].ret];
    assert_int_equal(inv->session, 16);
    assert_int_equal(inv->mode, CHK_MODE_EPHEMERAL | CHK_MODE_SEQUENTIAL);
    assert_string_equal(chk_str_get(h, inv->key), "/q/n-");
    assert_string_equal(chk_str_get(h, ret->result_path), "/q/n-0000000004");
    assert_true(ret->has_zxid);
    assert_int_equal(ret->zxid, 0x200000001ull);
    assert_int_equal(ret->line, 3);
    assert_int_equal(h->events[2].type, CHK_WATCH);
    assert_int_equal(h->events[2].watch_type, CHK_WATCH_CHILDREN);
    assert_true(h->events[h->ops[1].inv].watch);
    const struct chk_event *ch = &h->events[h->ops[1].ret];
    assert_int_equal(ch->n_children, 2);
    assert_string_equal(chk_str_get(h, h->names[ch->children + 1]), "x");
    chk_history_free(h);
}

static void edn_subset_and_tolerance(void **state)
{
    (void)state;
    char err[256];
    const char *text =
        "{:index 0, :time 10, :type :invoke, :process 0, :f :cas, :value [1 2]}\n"
        "{:type :info, :process :nemesis, :f :start, :value {:partition #{1 2}}}\n"
        "#jepsen.history.Op{:index 1, :time 20, :type :ok, :process 0, :f :cas, :value [1 2]}\n"
        "; a comment line\n"
        "{:process 1 :type :invoke :f :put :value [3 \"v\\\"x\"] :tags (a b) :ok? true}\n"
        "{:process 1, :type :fail, :f :put, :value [3 \"v\\\"x\"], :error \"timeout\"}\n"
        "{:process 2, :type :invoke, :f :read, :value nil, :time 30.5}\n";
    struct chk_history *h = parse(text, CHK_FMT_EDN, err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    assert_int_equal(h->n_events, 5);            /* nemesis and comment skipped */
    assert_int_equal(h->n_ops, 3);
    const struct chk_event *cas = &h->events[h->ops[0].inv];
    assert_int_equal(cas->f, CHK_F_CAS);
    assert_int_equal(cas->ival, 1);
    assert_int_equal(cas->ival2, 2);
    assert_int_equal(cas->time_ns, 10);
    assert_int_equal(h->ops[0].status, CHK_ST_OK);
    const struct chk_event *put = &h->events[h->ops[1].inv];
    assert_string_equal(chk_str_get(h, put->key), "3");  /* independent [k v] */
    assert_string_equal(chk_str_get(h, put->sval), "v\"x");
    assert_int_equal(h->ops[1].status, CHK_ST_FAIL);
    assert_int_equal(h->ops[2].status, CHK_ST_INFO);     /* never completed */
    assert_int_equal(h->ops[2].ret, CHK_NONE);
    chk_history_free(h);
}

static void info_completion_has_no_end(void **state)
{
    (void)state;
    char err[256];
    struct chk_history *h = parse("{:process 0, :type :invoke, :f :write, :value 1}\n"
                                  "{:process 0, :type :info, :f :write, :value 1}\n"
                                  "{:process 0, :type :invoke, :f :read, :value nil}\n"
                                  "{:process 0, :type :ok, :f :read, :value 1}\n",
                                  CHK_FMT_AUTO, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(h->ops[0].status, CHK_ST_INFO);
    assert_int_equal(h->ops[0].ret, CHK_NONE);
    assert_int_equal(h->ops[1].status, CHK_ST_OK);
    chk_history_free(h);
}

static void assert_same_events(const struct chk_history *a, const struct chk_history *b)
{
    assert_int_equal(a->n_events, b->n_events);
    for (uint32_t i = 0; i < a->n_events; i++) {
        const struct chk_event *x = &a->events[i], *y = &b->events[i];
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->f, y->f);
        assert_int_equal(x->process, y->process);
        assert_int_equal(x->session, y->session);
        assert_int_equal(x->time_ns, y->time_ns);
        assert_int_equal(x->has_zxid, y->has_zxid);
        assert_int_equal(x->zxid, y->zxid);
        assert_int_equal(x->err, y->err);
        assert_int_equal(x->mode, y->mode);
        assert_string_equal(chk_str_get(a, x->key), chk_str_get(b, y->key));
        assert_string_equal(chk_str_get(a, x->sval), chk_str_get(b, y->sval));
        assert_string_equal(chk_str_get(a, x->result_path), chk_str_get(b, y->result_path));
        assert_int_equal(x->n_children, y->n_children);
        if (x->has_version && y->has_version)
            assert_int_equal(x->version, y->version);
        if (x->f <= CHK_F_CAS && !x->nil) {
            assert_int_equal(x->ival, y->ival);
            assert_int_equal(x->ival2, y->ival2);
        }
    }
}

static void roundtrip(enum chk_model_kind model, bool edn)
{
    char err[512];
    struct chk_gen_opts o = {.model = model, .n_ops = 300, .n_procs = 6, .crash_rate = 0.2, .seed = 7};
    struct chk_history *h = chk_gen_history(&o, err, sizeof err);
    assert_non_null(h);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    for (uint32_t i = 0; i < h->n_events; i++)
        assert_int_equal(edn ? chk_edn_write_event(m, h, &h->events[i])
                             : chk_jsonl_write_event(m, h, &h->events[i]), 0);
    fclose(m);
    struct chk_history *back = chk_history_parse("rt", buf, len, CHK_FMT_AUTO, err, sizeof err);
    if (!back)
        fail_msg("%s", err);
    assert_same_events(h, back);
    assert_int_equal(h->n_ops, back->n_ops);
    free(buf);
    chk_history_free(back);
    chk_history_free(h);
}

static void roundtrip_jsonl_zk(void **state)
{
    (void)state;
    roundtrip(CHK_MODEL_ZK, false);
}

static void roundtrip_edn_register_and_kv(void **state)
{
    (void)state;
    roundtrip(CHK_MODEL_REGISTER, true);
    roundtrip(CHK_MODEL_KV, true);
}

static void streaming_writer(void **state)
{
    (void)state;
    char path[] = "/tmp/zablab-writer-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct chk_writer *w = chk_writer_open(path, err, sizeof err);
    assert_non_null(w);
    const char *kids[] = {"a", "b\"c"};
    struct chk_record r = {.type = CHK_INVOKE, .f = CHK_F_GET_CHILDREN, .process = 1, .session = 9,
                           .time_ns = 100, .key = "/"};
    assert_int_equal(chk_writer_append(w, &r), 0);
    r.type = CHK_OK, r.time_ns = 200, r.children = kids, r.n_children = 2, r.has_zxid = true, r.zxid = 5;
    assert_int_equal(chk_writer_append(w, &r), 0);
    assert_int_equal(chk_writer_close(w), 0);
    struct chk_history *h = chk_history_load(path, CHK_FMT_JSONL, err, sizeof err);
    unlink(path);
    if (!h)
        fail_msg("%s", err);
    assert_int_equal(h->n_ops, 1);
    const struct chk_event *e = &h->events[h->ops[0].ret];
    assert_int_equal(e->session, 9);
    assert_int_equal(e->zxid, 5);
    assert_int_equal(e->n_children, 2);
    assert_string_equal(chk_str_get(h, h->names[e->children + 1]), "b\"c");
    chk_history_free(h);
}

static void interning_is_stable(void **state)
{
    (void)state;
    struct chk_history *h = chk_history_new("s");
    chk_str first = chk_str_intern(h, "/a", 2);
    char name[32];
    for (int i = 0; i < 5000; i++)                 /* forces several rehashes */
        chk_str_intern(h, name, (size_t)snprintf(name, sizeof name, "/n%d", i));
    assert_int_equal(chk_str_intern(h, "/a", 2), first);
    assert_string_equal(chk_str_get(h, first), "/a");
    assert_int_equal(chk_str_intern(h, "/n4999", 6), first + 5000);
    /* a suffix of an interned string, interned while the table must grow */
    for (int i = 0; i < 3000; i++) {
        chk_str id = chk_str_intern(h, name, (size_t)snprintf(name, sizeof name, "/long/path/%05d", i));
        chk_str tail = chk_str_intern(h, chk_str_get(h, id) + 11, 5);
        assert_int_equal(chk_str_len(h, tail), 5);
        assert_memory_equal(chk_str_get(h, tail), name + 11, 5);
    }
    chk_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_corpus_gives_exact_positions),
        cmocka_unit_test(jsonl_zk_fields),
        cmocka_unit_test(edn_subset_and_tolerance),
        cmocka_unit_test(info_completion_has_no_end),
        cmocka_unit_test(roundtrip_jsonl_zk),
        cmocka_unit_test(roundtrip_edn_register_and_kv),
        cmocka_unit_test(streaming_writer),
        cmocka_unit_test(interning_is_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
