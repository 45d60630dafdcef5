/* zoo.cfg parser: valid files with ZooKeeper's defaults, and a corpus of
 * broken files each with its exact "file:line:col: message".
 *
 * The Makefile links test binaries with build/libzablab.a only, which holds
 * no server/ code, so this test compiles server/config.c into itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/zk_proto.h"
#include "server/config.h"

static struct cfg cfg; /* large: keep it off the stack */
static char err[512];

static int parse(const char *text)
{
    return cfg_parse(&cfg, "zoo.cfg", text, strlen(text), err, sizeof err);
}

static void sample_standalone(void **state)
{
    (void)state;
    const char *text =
        "# The number of milliseconds of each tick\n"
        "tickTime=2000\n"
        "initLimit=10\n"
        "syncLimit=5\n"
        "dataDir=/tmp/zookeeper\n"
        "clientPort=2181\n"
        "#maxClientCnxns=60\n";
    assert_int_equal(parse(text), 0);
    assert_int_equal(cfg.tick_time_ms, 2000);
    assert_int_equal(cfg.init_limit_ticks, 10);
    assert_int_equal(cfg.sync_limit_ticks, 5);
    assert_string_equal(cfg.data_dir, "/tmp/zookeeper");
    assert_string_equal(cfg.data_log_dir, "/tmp/zookeeper");
    assert_int_equal(cfg.client_port, 2181);
    assert_string_equal(cfg.client_port_address, "0.0.0.0");
    assert_int_equal(cfg.max_client_cnxns, 60);
    assert_int_equal(cfg.min_session_timeout_ms, 4000);
    assert_int_equal(cfg.max_session_timeout_ms, 40000);
    assert_int_equal(cfg.four_lw_allowed, 1u << ZKP_4LW_SRVR);
    assert_int_equal(cfg.jute_max_buffer, 0xfffff);
    assert_int_equal(cfg.server_count, 0);
    assert_int_equal(cfg.warnings.count, 0);
    assert_null(cfg_self(&cfg));
}

static void defaults_follow_tick_time(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\n"), 0);
    assert_int_equal(cfg.tick_time_ms, 3000);
    assert_int_equal(cfg.min_session_timeout_ms, 6000);
    assert_int_equal(cfg.max_session_timeout_ms, 60000);
    /* Explicit values win over the tick-derived ones. */
    assert_int_equal(parse("tickTime=100\ndataDir=/d\nclientPort=1\nmaxSessionTimeout=900\n"), 0);
    assert_int_equal(cfg.min_session_timeout_ms, 200);
    assert_int_equal(cfg.max_session_timeout_ms, 900);
}

static void properties_syntax(void **state)
{
    (void)state;
    const char *text =
        "  ! a bang comment\r\n"
        "\t\n"
        "dataDir /var/zk   \r\n"
        "dataLogDir: /var/zklog\r\n"
        "clientPort = 2182\r\n"
        "clientPortAddress=127.0.0.1\r\n"
        "maxClientCnxns=0\r\n"
        "jute.maxbuffer=0x400000\r\n";
    assert_int_equal(parse(text), 0);
    assert_string_equal(cfg.data_dir, "/var/zk");
    assert_string_equal(cfg.data_log_dir, "/var/zklog");
    assert_int_equal(cfg.client_port, 2182);
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_int_equal(cfg.max_client_cnxns, 0);
    assert_int_equal(cfg.jute_max_buffer, 0x400000);
    assert_int_equal(cfg.secret_len, 0);
}

static void secret_is_kept_verbatim(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\nsecret = s3cr=t:x \n"), 0);
    assert_string_equal(cfg.secret, "s3cr=t:x");
    assert_int_equal(cfg.secret_len, 8);
    assert_int_equal(cfg.warnings.count, 0);
}

static void unknown_keys_are_warnings(void **state)
{
    (void)state;
    const char *text =
        "dataDir=/d\n"
        "clientPort=1\n"
        "autopurge.purgeInterval=1\n"
        "  tikTime=2000\n";
    assert_int_equal(parse(text), 0);
    assert_int_equal(cfg.warnings.count, 2);
    assert_string_equal(cfg.warnings.msg[0],
                        "zoo.cfg:3:1: warning: 'autopurge.purgeInterval' is a ZooKeeper "
                        "setting zabd does not use; ignored");
    assert_string_equal(cfg.warnings.msg[1],
                        "zoo.cfg:4:3: warning: unknown key 'tikTime' ignored");
    assert_int_equal(cfg.tick_time_ms, CFG_TICK_TIME_MS_DEFAULT);
}

static void warnings_are_bounded(void **state)
{
    (void)state;
    char text[2048] = "dataDir=/d\nclientPort=1\n";
    for (int i = 0; i < CFG_WARN_MAX + 5; i++) {
        char line[32];
        snprintf(line, sizeof line, "k%d=v\n", i);
        strcat(text, line);
    }
    assert_int_equal(parse(text), 0);
    assert_int_equal(cfg.warnings.count, CFG_WARN_MAX);
    assert_int_equal(cfg.warnings.dropped, 5);
}

static void four_letter_whitelist(void **state)
{
    (void)state;
    assert_int_equal(parse("dataDir=/d\nclientPort=1\n4lw.commands.whitelist=ruok, mntr ,bogus\n"), 0);
    assert_int_equal(cfg.four_lw_allowed, (1u << ZKP_4LW_RUOK) | (1u << ZKP_4LW_MNTR));
    assert_int_equal(cfg.warnings.count, 1);
    assert_string_equal(cfg.warnings.msg[0],
                        "zoo.cfg:3:36: warning: 4lw.commands.whitelist: unknown word 'bogus' ignored");
    assert_int_equal(parse("dataDir=/d\nclientPort=1\n4lw.commands.whitelist=*\n"), 0);
    for (int w = 1; w < ZKP_4LW_COUNT; w++)
        assert_true(cfg.four_lw_allowed & (1u << w));
    assert_false(cfg.four_lw_allowed & 1u);
}

static const char *quorum_text =
    "tickTime=2000\n"
    "initLimit=10\n"
    "syncLimit=5\n"
    "dataDir=/var/lib/zookeeper\n"
    "server.1=zoo1:2888:3888\n"
    "server.2=zoo2:2888:3888:participant;2181\n"
    "server.3=[fe80::1]:2889:3889;[::1]:2183\n"
    "server.4=zoo4:2888:3888:OBSERVER;0.0.0.0:2184\n";

static void quorum_servers(void **state)
{
    (void)state;
    assert_int_equal(parse(quorum_text), 0);
    assert_int_equal(cfg.server_count, 4);
    const struct cfg_server *s = cfg.servers;
    assert_true(s[0].id == 1);
    assert_string_equal(s[0].host, "zoo1");
    assert_int_equal(s[0].quorum_port, 2888);
    assert_int_equal(s[0].election_port, 3888);
    assert_int_equal(s[0].role, CFG_ROLE_PARTICIPANT);
    assert_int_equal(s[0].client_port, 0);
    assert_int_equal(s[1].client_port, 2181);
    assert_string_equal(s[1].client_host, "");
    assert_string_equal(s[2].host, "fe80::1");
    assert_int_equal(s[2].quorum_port, 2889);
    assert_string_equal(s[2].client_host, "::1");
    assert_int_equal(s[2].client_port, 2183);
    assert_int_equal(s[3].role, CFG_ROLE_OBSERVER);
    assert_string_equal(s[3].client_host, "0.0.0.0");
    assert_int_equal(s[3].line, 8);

    assert_int_equal(cfg_parse_myid(&cfg, "myid", "3\n", 2, err, sizeof err), 0);
    assert_true(cfg.my_id == 3);
    assert_ptr_equal(cfg_self(&cfg), &cfg.servers[2]);
    assert_int_equal(cfg.client_port, 2183);
    assert_string_equal(cfg.client_port_address, "::1");
}

static void myid_errors(void **state)
{
    (void)state;
    assert_int_equal(parse(quorum_text), 0);
    assert_int_equal(cfg_parse_myid(&cfg, "myid", "abc", 3, err, sizeof err), -1);
    assert_string_equal(err, "myid:1:1: 'abc' is not a server id");
    assert_int_equal(cfg_parse_myid(&cfg, "myid", "  7\n", 4, err, sizeof err), -1);
    assert_string_equal(err, "myid:1:3: server id 7 is not in the server list");
    assert_int_equal(cfg_parse_myid(&cfg, "myid", "", 0, err, sizeof err), -1);
    assert_string_equal(err, "myid:1:1: '' is not a server id");

    /* clientPort= and the server's own ;port disagree. */
    assert_int_equal(parse("initLimit=1\nsyncLimit=1\ndataDir=/d\nclientPort=2181\n"
                           "server.1=h:1:2;2182\n"), 0);
    assert_int_equal(cfg_parse_myid(&cfg, "myid", "1", 1, err, sizeof err), -1);
    assert_string_equal(err, "zoo.cfg:5:1: server.1 client port 2182 differs from clientPort 2181");
}

struct broken {
    const char *text;
    const char *message;
};

static const struct broken broken_files[] = {
    { "tickTime=abc\ndataDir=/d\nclientPort=1\n",
      "zoo.cfg:1:10: tickTime: 'abc' is not a number in [1, 2147483647]" },
    { "tickTime=99999999999\n",
      "zoo.cfg:1:10: tickTime: '99999999999' is not a number in [1, 2147483647]" },
    { "tickTime=0\n", "zoo.cfg:1:10: tickTime: '0' is not a number in [1, 2147483647]" },
    { "tickTime=12ms\n", "zoo.cfg:1:10: tickTime: '12ms' is not a number in [1, 2147483647]" },
    { "dataDir=/d\nclientPort=2181\nmaxClientCnxns = -5\n",
      "zoo.cfg:3:18: maxClientCnxns: '-5' is not a number in [0, 2147483647]" },
    { "clientPort=2181\n", "zoo.cfg:2:1: dataDir is not set" },
    { "clientPort=2181", "zoo.cfg:1:16: dataDir is not set" },
    { "", "zoo.cfg:1:1: dataDir is not set" },
    { "dataDir=/d\n", "zoo.cfg:2:1: clientPort is not set" },
    { "dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.1=b:2888:3888\n",
      "zoo.cfg:5:8: duplicate server id 1 (first on line 4)" },
    { "server.2=a:70000:3888\n", "zoo.cfg:1:12: quorum port '70000' is not a port in [1, 65535]" },
    { "server.2=a:2888:x\n", "zoo.cfg:1:17: election port 'x' is not a port in [1, 65535]" },
    { "server.3=h:1:2:leader\n", "zoo.cfg:1:16: role 'leader' is neither participant nor observer" },
    { "server.3=h:1:2:observer:9\n", "zoo.cfg:1:25: unexpected text after role" },
    { "server.1=h:2888\n", "zoo.cfg:1:16: missing election port" },
    { "server.1=h2888\n", "zoo.cfg:1:10: expected host:port in 'h2888'" },
    { "server.1=[::1:2888:3888\n", "zoo.cfg:1:10: unterminated [address] or missing ':'" },
    { "server.1=:2888:3888\n", "zoo.cfg:1:10: host: empty value" },
    { "server.x=h:1:2\n", "zoo.cfg:1:8: server id 'x' is not a number >= 0" },
    { "server.-1=h:1:2\n", "zoo.cfg:1:8: server id '-1' is not a number >= 0" },
    { "server.1=h:1:2;\n", "zoo.cfg:1:16: client port '' is not a port in [1, 65535]" },
    { "server.1=h:1:2;[::1]\n", "zoo.cfg:1:16: client port '[::1]' is not a port in [1, 65535]" },
    { "server.1=a:1:2|b:3:4\n",
      "zoo.cfg:1:15: multiple addresses per server are not supported" },
    { "dataDir=/d\nclientPort=1\nminSessionTimeout=5000\nmaxSessionTimeout=4000\n",
      "zoo.cfg:4:19: minSessionTimeout 5000 is larger than maxSessionTimeout 4000" },
    { "tickTime=1000\ndataDir=/d\nclientPort=1\nminSessionTimeout=50000\n",
      "zoo.cfg:4:19: minSessionTimeout 50000 is larger than maxSessionTimeout 20000" },
    { "dataDir=/d\nserver.1=h:1:2\n", "zoo.cfg:3:1: initLimit is not set" },
    { "dataDir=/d\ninitLimit=1\nserver.1=h:1:2\n", "zoo.cfg:4:1: syncLimit is not set" },
    { "dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=h:1:2:observer\n",
      "zoo.cfg:5:1: no participant among the servers (all are observers)" },
    { "dataDir=/a\\\n", "zoo.cfg:1:11: line continuation with '\\' is not supported" },
    { "=5\n", "zoo.cfg:1:1: missing key before '='" },
    { "  :5\n", "zoo.cfg:1:3: missing key before ':'" },
    { "secret=\n", "zoo.cfg:1:8: secret: must be 1..64 bytes, not 0" },
    { "secret=0123456789012345678901234567890123456789012345678901234567890123456789\n",
      "zoo.cfg:1:8: secret: must be 1..64 bytes, not 70" },
    { "jute.maxbuffer=0\n", "zoo.cfg:1:16: jute.maxbuffer: '0' is not a positive number" },
    { "jute.maxbuffer=0xzz\n", "zoo.cfg:1:16: jute.maxbuffer: '0xzz' is not a positive number" },
    { "clientPort=\n", "zoo.cfg:1:12: clientPort '' is not a port in [1, 65535]" },
    { "clientPort=65536\n", "zoo.cfg:1:12: clientPort '65536' is not a port in [1, 65535]" },
    { "dataDir=\n", "zoo.cfg:1:9: dataDir: empty value" },
    { "minSessionTimeout=-2\n",
      "zoo.cfg:1:19: minSessionTimeout: '-2' is not a number in [-1, 2147483647]" },
    { "initLimit=+\n", "zoo.cfg:1:11: initLimit: '+' is not a number in [1, 2147483647]" },
};

static void broken_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof broken_files / sizeof broken_files[0]; i++) {
        err[0] = '\0';
        int rc = parse(broken_files[i].text);
        if (rc != -1 || strcmp(err, broken_files[i].message) != 0)
            fail_msg("case %zu: rc %d\n  got:  %s\n  want: %s", i, rc, err,
                     broken_files[i].message);
    }
}

static void nul_and_long_lines(void **state)
{
    (void)state;
    static const char nul[] = "dataDir=/d\0x\nclientPort=1\n";
    assert_int_equal(cfg_parse(&cfg, "zoo.cfg", nul, sizeof nul - 1, err, sizeof err), -1);
    assert_string_equal(err, "zoo.cfg:1:11: NUL byte in file");
    static char longline[CFG_LINE_MAX + 64];
    memset(longline, 'a', sizeof longline - 2);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    assert_int_equal(parse(longline), -1);
    assert_string_equal(err, "zoo.cfg:1:4097: line longer than 4096 bytes");
    /* Too many servers. */
    static char many[8192];
    strcpy(many, "dataDir=/d\n");
    for (int i = 0; i <= CFG_SERVERS_MAX; i++) {
        char line[64];
        snprintf(line, sizeof line, "server.%d=h:1:2\n", i + 1);
        strcat(many, line);
    }
    assert_int_equal(parse(many), -1);
    char want[64];
    snprintf(want, sizeof want, "zoo.cfg:%d:1: more than %d servers", CFG_SERVERS_MAX + 2,
             CFG_SERVERS_MAX);
    assert_string_equal(err, want);
}

/* A small error buffer truncates the message but never overflows. */
static void tiny_error_buffer(void **state)
{
    (void)state;
    char small[12];
    memset(small, 'Z', sizeof small);
    assert_int_equal(cfg_parse(&cfg, "zoo.cfg", "tickTime=x\n", 11, small, 8), -1);
    assert_string_equal(small, "zoo.cfg");
    assert_int_equal(small[8], 'Z');
}

/* cfg_load reads the file and <dataDir>/myid from a real directory. */
static void load_from_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/zablab-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], myid[256], text[512];
    snprintf(path, sizeof path, "%s/zoo.cfg", dir);
    snprintf(myid, sizeof myid, "%s/myid", dir);
    snprintf(text, sizeof text,
             "initLimit=5\nsyncLimit=2\ndataDir=%s\nclientPort=2181\n"
             "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(cfg_load(&cfg, path, err, sizeof err), -1); /* no myid yet */
    assert_non_null(strstr(err, "myid:0:0: cannot open"));
    f = fopen(myid, "w");
    assert_non_null(f);
    fputs("2\n", f);
    fclose(f);
    assert_int_equal(cfg_load(&cfg, path, err, sizeof err), 0);
    assert_true(cfg.my_id == 2);
    assert_int_equal(cfg_self(&cfg)->quorum_port, 2889);
    assert_int_equal(cfg.client_port, 2181);
    unlink(myid);
    unlink(path);
    rmdir(dir);
    assert_int_equal(cfg_load(&cfg, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_standalone),
        cmocka_unit_test(defaults_follow_tick_time),
        cmocka_unit_test(properties_syntax),
        cmocka_unit_test(unknown_keys_are_warnings),
        cmocka_unit_test(warnings_are_bounded),
        cmocka_unit_test(four_letter_whitelist),
        cmocka_unit_test(quorum_servers),
        cmocka_unit_test(myid_errors),
        cmocka_unit_test(broken_corpus),
        cmocka_unit_test(secret_is_kept_verbatim),
        cmocka_unit_test(nul_and_long_lines),
        cmocka_unit_test(tiny_error_buffer),
        cmocka_unit_test(load_from_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
