/* zoo.cfg keys added for zabd's read-only mode and per-connection limits:
 * readonlymode.enabled (also whitelists isro, as ZooKeeper does),
 * zablab.outstandingPerConnection and zablab.connectionWriteQueueBytes,
 * with their defaults and file:line:col errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/zk_proto.h"
#include "server/config.h"

static struct cfg cfg; /* large: keep it off the stack */
static char err[512];

static int parse(const char *text)
{
    return cfg_parse(&cfg, "zoo.cfg", text, strlen(text), err, sizeof err);
}

static void defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\n"), 0);
    assert_false(cfg.read_only_enabled);
    assert_int_equal(cfg.outstanding_per_conn, CFG_OUTSTANDING_PER_CONN_DEFAULT);
    assert_int_equal(cfg.write_queue_bytes, 0);
    assert_int_equal(cfg.four_lw_allowed, 1u << ZKP_4LW_SRVR);
    assert_int_equal(cfg.warnings.count, 0);
}

static void read_only_key(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nreadonlymode.enabled=TRUE\n"), 0);
    assert_true(cfg.read_only_enabled);
    /* isro joins the whitelist, whatever order the keys come in. */
    assert_int_equal(cfg.four_lw_allowed, (1u << ZKP_4LW_SRVR) | (1u << ZKP_4LW_ISRO));
    assert_int_equal(parse("readonlymode.enabled=true\n4lw.commands.whitelist=ruok\ndataDir=/d\n"
                           "clientPort=1\n"), 0);
    assert_int_equal(cfg.four_lw_allowed, (1u << ZKP_4LW_RUOK) | (1u << ZKP_4LW_ISRO));
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nreadonlymode.enabled=false\n"), 0);
    assert_false(cfg.read_only_enabled);
    assert_int_equal(cfg.four_lw_allowed, 1u << ZKP_4LW_SRVR);
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nreadonlymode.enabled = yes\n"), -1);
    assert_string_equal(err, "zoo.cfg:3:24: readonlymode.enabled: 'yes' is neither true nor false");
}

static void limit_keys(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nzablab.outstandingPerConnection=64\n"
                           "zablab.connectionWriteQueueBytes=4194304\n"), 0);
    assert_int_equal(cfg.outstanding_per_conn, 64);
    assert_int_equal(cfg.write_queue_bytes, 4194304);
    assert_int_equal(cfg.warnings.count, 0);
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nzablab.outstandingPerConnection=0\n"), -1);
    assert_string_equal(err, "zoo.cfg:3:33: zablab.outstandingPerConnection: '0' is not a number "
                             "in [1, 1000000]");
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nzablab.outstandingPerConnection=x\n"), -1);
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nzablab.connectionWriteQueueBytes=-1\n"), -1);
    assert_string_equal(err, "zoo.cfg:3:34: zablab.connectionWriteQueueBytes: '-1' is not a "
                             "number in [0, 1073741824]");
    /* Below two of the largest frames: refused, pointing at the value. */
    assert_int_equal(parse("dataDir=/d\nclientPort=1\njute.maxbuffer=1000000\n"
                           "zablab.connectionWriteQueueBytes=1999999\n"), -1);
    assert_string_equal(err, "zoo.cfg:4:34: zablab.connectionWriteQueueBytes 1999999 is below "
                             "2 x jute.maxbuffer (1000000)");
    assert_int_equal(parse("dataDir=/d\nclientPort=1\njute.maxbuffer=1000000\n"
                           "zablab.connectionWriteQueueBytes=2000000\n"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(read_only_key),
        cmocka_unit_test(limit_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
