/* SPDX-License-Identifier: MIT */
/* test_dict.c: dictionary file loading and universal-tag rendering (§5). */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dict.h"
#include "rowbuild.h"

static char tmpdir[] = "/tmp/flowrw-test-dict-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

/* Write <text> (<len> bytes) to a file in tmpdir; returns its path (static buffer). */
static const char *write_file(const char *text, size_t len)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/dict.txt", tmpdir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return path;
}

static struct dict *load_text(const char *text, char *err, size_t errlen)
{
	return dict_load(write_file(text, strlen(text)), err, errlen);
}

static const char *name_of(const struct dict *d, enum dict_kind k, uint64_t key)
{
	static char buf[2048];
	size_t len;
	const char *s = dict_lookup(d, k, key, &len);

	if (!s)
		return "(none)";
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

TestSuite(dict, .init = setup, .fini = teardown);

Test(dict, loads_the_shipped_example)
{
	const char *root = getenv("FLOWRW_ROOT");
	char path[1024], err[256] = "";
	struct dict *d;

	snprintf(path, sizeof(path), "%s/etc/universal-tags.example", root ? root : ".");
	d = dict_load(path, err, sizeof(err));
	cr_assert_not_null(d, "%s", err);
	cr_expect_eq(dict_count(d, DICT_KIND_COUNT), 16);
	cr_expect_eq(dict_count(d, DICT_DEVICE), 5);
	cr_expect_str_eq(name_of(d, DICT_POD, 1201), "loadgenerator-r47cq6l4k-tvrsq");
	cr_expect_str_eq(name_of(d, DICT_DEVICE, 6ULL << 32 | 5), "hv-cn-north-1b-04");
	cr_expect_str_eq(name_of(d, DICT_DEVICE, 102ULL << 32 | 88), "loadgenerator");
	cr_expect_str_eq(name_of(d, DICT_AGENT, 12), "prod-a-node-011-V12");
	cr_expect_str_eq(name_of(d, DICT_POD, 1202), "(none)");
	dict_free(d);
}

Test(dict, names_keep_inner_blanks_and_hashes)
{
	char err[256] = "";
	struct dict *d = load_text("  # comment\n\n\t\npod 1 nginx 1  \r\n"
				   "pod\t2\tweb # not a comment\n"
				   "l3_epc -2 internet\nl3_epc 4294967295 max\n"
				   "device 255 7 some ip\nregion 0 zero", err, sizeof(err));

	cr_assert_not_null(d, "%s", err);
	cr_expect_str_eq(name_of(d, DICT_POD, 1), "nginx 1");
	cr_expect_str_eq(name_of(d, DICT_POD, 2), "web # not a comment");
	cr_expect_str_eq(name_of(d, DICT_L3_EPC, 4294967294ULL), "internet");
	cr_expect_str_eq(name_of(d, DICT_L3_EPC, 4294967295ULL), "max");
	cr_expect_str_eq(name_of(d, DICT_DEVICE, 255ULL << 32 | 7), "some ip");
	cr_expect_str_eq(name_of(d, DICT_REGION, 0), "zero");
	cr_expect_str_eq(name_of(d, DICT_AZ, 0), "(none)");
	dict_free(d);
}

Test(dict, errors_name_file_and_line)
{
	static const struct {
		const char *text;
		const char *msg; /* expected after "PATH:" */
	} cases[] = {
		{"pod 1 a\npods 2 b\n", "2: unknown kind 'pods'"},
		{"pod x a\n", "1: pod: id 'x' is not a number"},
		{"pod -1 a\n", "1: pod: id '-1' is not a number"},
		{"pod 4294967296 a\n", "1: pod: id '4294967296' is not a number"},
		{"pod 99999999999999999999999 a\n", "1: pod: id '99999999999999999999999' is not a number"},
		{"l3_epc -2147483649 a\n", "1: l3_epc: id '-2147483649' is not a number"},
		{"pod 1\n", "1: missing name"},
		{"pod 1   \n", "1: missing name"},
		{"pod\n", "1: pod: id '' is not a number"},
		{"device 256 1 a\n", "1: device: type '256' is not a number in 0..255"},
		{"device x 1 a\n", "1: device: type 'x'"},
		{"device 10\n", "1: device: id '' is not a number"},
		{"# x\npod 1 a\n\npod 1 b\n", "4: duplicate pod 1 (first defined at line 2)"},
		{"host 5 a\ndevice 6 5 b\n", "2: duplicate device 6 5 (first defined at line 1)"},
		{"pod 1 a\x01z\n", "1: control character 0x01 in name"},
		{"pod 1 +5\npod +1 a\n", "2: pod: id '+1' is not a number"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_file(cases[i].text, strlen(cases[i].text));
		char want[600];
		struct dict *d;

		err[0] = '\0';
		d = dict_load(path, err, sizeof(err));
		cr_expect_null(d, "case %zu loaded", i);
		dict_free(d);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].msg);
		cr_expect(strncmp(err, want, strlen(want)) == 0, "case %zu: got '%s', want '%s...'", i, err, want);
	}
	{
		char big[1100 + 16];

		memcpy(big, "pod 1 ", 6);
		memset(big + 6, 'x', 1100);
		big[1106] = '\0';
		cr_expect_null(load_text(big, err, sizeof(err)));
		cr_expect(strstr(err, ":1: name longer than 1024 bytes") != NULL, "%s", err);
	}
	{
		const char *path = write_file("pod 1 a\npod 2 b\0c\n", 18);

		cr_expect_null(dict_load(path, err, sizeof(err)));
		cr_expect(strstr(err, ":2: NUL byte in line") != NULL, "%s", err);
	}
	cr_expect_null(dict_load("/nonexistent/flowrw-dict", err, sizeof(err)));
	cr_expect_str_eq(err, "/nonexistent/flowrw-dict: cannot open: No such file or directory");
	/* a tiny error buffer is fine */
	cr_expect_null(load_text("nope\n", err, 4));
	cr_expect_null(load_text("nope\n", NULL, 0));
}

/* Random bytes and random mutations of a valid file never crash. */
Test(dict, bad_input_never_crashes, .timeout = 30)
{
	static const char good[] = "pod 1 a\ndevice 10 2 b\nl3_epc -2 c\nhost 3 d\n# x\n";
	char buf[512], err[128];
	unsigned seed = 12345;

	for (int iter = 0; iter < 2000; iter++) {
		size_t len = sizeof(good) - 1;
		struct dict *d;

		memcpy(buf, good, len);
		for (int k = 0; k < 1 + iter % 5; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = (char)(seed >> 16);
		}
		if (iter % 7 == 0) {
			len = (seed >> 4) % sizeof(buf);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245 + 12345;
				buf[i] = (char)(seed >> 16);
			}
		}
		d = dict_load(write_file(buf, len), err, sizeof(err));
		if (!d)
			cr_expect(strncmp(err, tmpdir, strlen(tmpdir)) == 0, "%s", err);
		dict_free(d);
	}
}

Test(dict, many_entries_grow_the_table)
{
	char path[512], err[256];
	FILE *fp;
	struct dict *d;

	snprintf(path, sizeof(path), "%s/big.txt", tmpdir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	for (int i = 0; i < 50000; i++)
		fprintf(fp, "pod %d pod-%d\ndevice 10 %d dev-%d\n", i, i, i, i);
	fclose(fp);
	d = dict_load(path, err, sizeof(err));
	cr_assert_not_null(d, "%s", err);
	cr_expect_eq(dict_count(d, DICT_POD), 50000);
	cr_expect_eq(dict_count(d, DICT_KIND_COUNT), 100000);
	cr_expect_str_eq(name_of(d, DICT_POD, 49999), "pod-49999");
	cr_expect_str_eq(name_of(d, DICT_DEVICE, 10ULL << 32 | 31337), "dev-31337");
	cr_expect_str_eq(name_of(d, DICT_POD, 50000), "(none)");
	dict_free(d);
}

/* ---- utag_render ---- */

static const char *render(const struct dict *d, int tag, const struct rawrow_view *v)
{
	static char buf[256];
	size_t n;

	memset(buf, 'Z', sizeof(buf));
	n = utag_render(d, tag, v, buf, sizeof(buf));
	cr_assert(n < sizeof(buf));
	buf[n] = '\0';
	return buf;
}

static struct dict *test_dict(void)
{
	char err[256];
	struct dict *d = load_text("region 1 r1\nregion 2 r2\naz 3 az3\nhost 5 h5\n"
				   "pod_node 11 node11\npod_ns 7 ns7\npod_group 40 pg40\npod 12 nginx-1\n"
				   "pod 13 redis-0\npod_cluster 2 k8s\nl3_epc -2 internet\nl3_epc 3 vpc3\n"
				   "subnet 21 sub21\nservice 88 svc88\ngprocess 9 proc9\nagent 3 node-3-V12\n"
				   "device 10 12 nginx-1-dev\ndevice 1 300 vm300\ndevice 11 88 podsvc88\n",
				   err, sizeof(err));

	cr_assert_not_null(d, "%s", err);
	return d;
}

Test(dict, render_every_slot_from_ids)
{
	struct dict *d = test_dict();
	struct rowbuild b;
	const struct rawrow_view *v;

	rb_init(&b, SCHEMA_DS_NETWORK_MAP_1M);
	rb_num(&b, SCHEMA_T_REGION_ID, 1);
	rb_num(&b, SCHEMA_T_REGION_ID_1, 2);
	rb_num(&b, SCHEMA_T_AZ_ID, 3);
	rb_num(&b, SCHEMA_T_HOST_ID, 5);
	rb_num(&b, SCHEMA_T_POD_NODE_ID, 11);
	rb_num(&b, SCHEMA_T_POD_NS_ID, 7);
	rb_num(&b, SCHEMA_T_POD_GROUP_ID, 40);
	rb_num(&b, SCHEMA_T_POD_ID, 12);
	rb_num(&b, SCHEMA_T_POD_ID_1, 13);
	rb_num(&b, SCHEMA_T_POD_CLUSTER_ID, 2);
	rb_num(&b, SCHEMA_T_L3_EPC_ID, -2);
	rb_num(&b, SCHEMA_T_L3_EPC_ID_1, 3);
	rb_num(&b, SCHEMA_T_SUBNET_ID, 21);
	rb_num(&b, SCHEMA_T_SERVICE_ID, 88);
	rb_num(&b, SCHEMA_T_GPROCESS_ID, 9);
	rb_num(&b, SCHEMA_T_AGENT_ID, 3);
	rb_num(&b, SCHEMA_T_L3_DEVICE_ID, 12);
	rb_num(&b, SCHEMA_T_L3_DEVICE_TYPE, 10);
	rb_num(&b, SCHEMA_T_L3_DEVICE_ID_1, 300);
	rb_num(&b, SCHEMA_T_L3_DEVICE_TYPE_1, 1);
	rb_num(&b, SCHEMA_T_AUTO_INSTANCE_ID, 12);
	rb_num(&b, SCHEMA_T_AUTO_INSTANCE_TYPE, 10);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_ID, 88);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_TYPE, 11);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_ID_1, 99);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_TYPE_1, 130);
	v = rb_view(&b);
	cr_assert_not_null(v);

	cr_expect_str_eq(render(d, SCHEMA_T_REGION_ID, v), "r1");
	cr_expect_str_eq(render(d, SCHEMA_T_REGION_ID_1, v), "r2");
	cr_expect_str_eq(render(d, SCHEMA_T_AZ_ID, v), "az3");
	cr_expect_str_eq(render(d, SCHEMA_T_HOST_ID, v), "h5");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_NODE_ID, v), "node11");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_NS_ID, v), "ns7");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_GROUP_ID, v), "pg40");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_ID, v), "nginx-1");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_ID_1, v), "redis-0");
	cr_expect_str_eq(render(d, SCHEMA_T_POD_CLUSTER_ID, v), "k8s");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_EPC_ID, v), "internet");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_EPC_ID_1, v), "vpc3");
	cr_expect_str_eq(render(d, SCHEMA_T_SUBNET_ID, v), "sub21");
	cr_expect_str_eq(render(d, SCHEMA_T_SERVICE_ID, v), "svc88");
	cr_expect_str_eq(render(d, SCHEMA_T_GPROCESS_ID, v), "proc9");
	cr_expect_str_eq(render(d, SCHEMA_T_AGENT_ID, v), "node-3-V12");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_DEVICE_ID, v), "nginx-1-dev");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_DEVICE_TYPE, v), "pod");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_DEVICE_ID_1, v), "vm300");
	cr_expect_str_eq(render(d, SCHEMA_T_L3_DEVICE_TYPE_1, v), "chost");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_INSTANCE_ID, v), "nginx-1-dev");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_INSTANCE_TYPE, v), "pod");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_SERVICE_ID, v), "podsvc88");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_SERVICE_TYPE, v), "pod_service");
	/* workload type 130: no keyword (DeepFlow §2.9), no device entry */
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_SERVICE_TYPE_1, v), "");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_SERVICE_ID_1, v), "");
	/* absent ids render nothing */
	cr_expect_str_eq(render(d, SCHEMA_T_AZ_ID_1, v), "");
	cr_expect_str_eq(render(d, SCHEMA_T_AUTO_INSTANCE_ID_1, v), "");
	/* not a universal tag / out of range */
	cr_expect_eq(utag_render(d, SCHEMA_T_PROTOCOL, v, (char[8]){0}, 8), 0);
	cr_expect_eq(utag_render(d, -1, v, (char[8]){0}, 8), 0);
	cr_expect_eq(utag_render(d, SCHEMA_TAG_COUNT, v, (char[8]){0}, 8), 0);
	/* unknown id */
	rb_num(&b, SCHEMA_T_POD_ID, 999);
	v = rb_view(&b);
	cr_expect_str_eq(render(d, SCHEMA_T_POD_ID, v), "");
	dict_free(d);
}

Test(dict, render_auto_of_ip_type_is_the_side_ip)
{
	static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct rowbuild b;
	const struct rawrow_view *v;

	rb_init(&b, SCHEMA_DS_APPLICATION_MAP_1S);
	rb_num(&b, SCHEMA_T_IS_IPV4, 1);
	rb_num(&b, SCHEMA_T_IP4, 0x0a100001);
	rb_str(&b, SCHEMA_T_IP4_1, "192.168.1.9");
	rb_num(&b, SCHEMA_T_AUTO_INSTANCE_ID, 21);
	rb_num(&b, SCHEMA_T_AUTO_INSTANCE_TYPE, 255);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_ID, 0);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_TYPE, 0);
	rb_num(&b, SCHEMA_T_AUTO_INSTANCE_ID_1, 22);
	rb_str(&b, SCHEMA_T_AUTO_INSTANCE_TYPE_1, "ip");
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_ID_1, 22);
	rb_num(&b, SCHEMA_T_AUTO_SERVICE_TYPE_1, 255);
	v = rb_view(&b);
	cr_assert_not_null(v);
	/* no dictionary needed for IPs and keywords */
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_INSTANCE_ID, v), "10.16.0.1");
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_SERVICE_ID, v), "10.16.0.1");
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_SERVICE_TYPE, v), "internet_ip");
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_INSTANCE_TYPE, v), "ip");
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_INSTANCE_ID_1, v), "192.168.1.9");
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_SERVICE_ID_1, v), "192.168.1.9");
	cr_expect_str_eq(render(NULL, SCHEMA_T_POD_ID, v), "");

	/* IPv6 rows render the side's IPv6 */
	rb_num(&b, SCHEMA_T_IS_IPV4, 0);
	rb_num(&b, SCHEMA_T_IP4, 0);
	rb_ip6(&b, SCHEMA_T_IP6, ip6);
	v = rb_view(&b);
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_INSTANCE_ID, v), "2001:db8::1");
	/* type absent: nothing */
	rb_del(&b, SCHEMA_T_AUTO_INSTANCE_TYPE);
	v = rb_view(&b);
	cr_expect_str_eq(render(NULL, SCHEMA_T_AUTO_INSTANCE_ID, v), "");
}

Test(dict, render_copies_names_given_upstream)
{
	struct dict *d = test_dict();
	struct rowbuild b;
	const struct rawrow_view *v;
	char small[4];

	rb_init(&b, SCHEMA_DS_NETWORK_1S);
	rb_str(&b, SCHEMA_T_POD_ID, "loadgenerator-r47cq6l4k-tvrsq");
	rb_str(&b, SCHEMA_T_L3_DEVICE_TYPE, "pod");
	rb_str(&b, SCHEMA_T_AGENT_ID, "x");
	v = rb_view(&b);
	cr_assert_not_null(v);
	cr_expect_str_eq(render(d, SCHEMA_T_POD_ID, v), "loadgenerator-r47cq6l4k-tvrsq");
	cr_expect_str_eq(render(NULL, SCHEMA_T_POD_ID, v), "loadgenerator-r47cq6l4k-tvrsq");
	cr_expect_str_eq(render(NULL, SCHEMA_T_L3_DEVICE_TYPE, v), "pod");
	/* too small a buffer: nothing, not a truncated name */
	cr_expect_eq(utag_render(d, SCHEMA_T_POD_ID, v, small, sizeof(small)), 0);
	/* exact fit: no NUL written past cap */
	memset(small, 'Z', sizeof(small));
	cr_expect_eq(utag_render(d, SCHEMA_T_AGENT_ID, v, small, 1), 1);
	cr_expect_eq(small[0], 'x');
	cr_expect_eq(small[1], 'Z');
	dict_free(d);
}
