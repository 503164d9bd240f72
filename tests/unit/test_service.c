/* test_service.c - services from /proc/PID/cgroup text: containers of each
 * runtime, systemd units, preferences between hierarchies, bad input; and
 * names made inside a delegated subtree, with a fake predicate in place of
 * service_of_pid's ownership check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "service.h"

#define ID "4f1c2a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"
#define USER "/user.slice/user-1000.slice/user@1000.service"

/* The fake predicate: a cgroup strictly below the delegated one (in
 * hierarchy hier, any when NULL) was named by its user; everything else
 * by root. Keeps what it was asked, to check the arguments. */
struct fake {
	const char *delegated, *hier;
	const char *buf, *end; /* the text given to the parser */
	int calls, outside;    /* asked; with an argument outside [buf, end) */
};

static bool fake_trusted(const char *hier, size_t hlen, const char *path, size_t len, void *ctx)
{
	struct fake *f = ctx;
	size_t dlen = f->delegated ? strlen(f->delegated) : 0;

	f->calls++;
	if (hier < f->buf || hier + hlen > f->end || path < f->buf || path + len > f->end)
		f->outside++;
	if (f->hier && (hlen != strlen(f->hier) || memcmp(hier, f->hier, hlen)))
		return true;
	return !(dlen && len > dlen && !memcmp(path, f->delegated, dlen) && path[dlen] == '/');
}

static void expect_in(const char *text, const char *delegated, const char *hier, const char *want)
{
	struct fake f = { delegated, hier, text, text + strlen(text), 0, 0 };
	char out[SERVICE_NAME_MAX] = "";
	int err = service_from_cgroup(text, strlen(text), fake_trusted, &f, out);
	const char *what = delegated ? delegated : "nothing";

	if (want)
		CHECK(!err && !strcmp(out, want), "'%s', %s delegated: got %d '%s', want '%s'",
		      text, what, err, out, want);
	else
		CHECK(err == -ENOENT, "'%s', %s delegated: got %d '%s', want none", text, what, err,
		      out);
	CHECK(!f.outside, "'%s': %d of %d questions point outside the text", text, f.outside,
	      f.calls);
}

static void expect(const char *text, const char *want)
{
	expect_in(text, NULL, NULL, want);
}

static bool trust_none(const char *hier, size_t hlen, const char *path, size_t len, void *ctx)
{
	(void)hier, (void)hlen, (void)path, (void)len;
	++*(int *)ctx;
	return false;
}

int main(void)
{
	char junk[512];
	int bad = 0;

	expect("0::/system.slice/nginx.service\n", "nginx");
	expect("0::/system.slice/docker-" ID ".scope\n", "4f1c2a9e8b7d");
	expect("12:pids:/docker/" ID "\n", "4f1c2a9e8b7d");
	expect("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
	       "cri-containerd-" ID ".scope\n", "4f1c2a9e8b7d");
	expect("0::/kubepods/besteffort/pod9a8b/" ID "\n", "4f1c2a9e8b7d");
	expect("0::/machine.slice/libpod-" ID ".scope/container\n", "4f1c2a9e8b7d");
	expect("0::/system.slice/crio-" ID ".scope\n", "4f1c2a9e8b7d");
	expect("0::/user.slice/user-0.slice/session-3.scope\n", NULL);
	expect("0::/\n", NULL);
	/* the unified line wins; then systemd's named hierarchy */
	expect("4:memory:/docker/" ID "\n0::/system.slice/cron.service\n", "cron");
	expect("9:name=systemd:/system.slice/sshd.service\n4:memory:/other.service\n", "sshd");
	expect("9:name=systemd:/\n0::/\n", NULL);
	expect("0::/system.slice/.service\n", NULL);
	expect("", NULL);
	expect("garbage without colons", NULL);
	expect("0::/" ID "0\n", NULL); /* 65 hex digits */

	/* A user's units are below their delegated user@UID.service: the
	 * names they chose do not count, the manager's unit does. */
	expect_in("0::" USER "/app.slice/nginx.service\n", USER, NULL, "user@1000");
	expect_in("0::" USER "/app.slice/" ID "\n", USER, NULL, "user@1000");
	expect_in("0::" USER "/user.slice/libpod-" ID ".scope/container\n", USER, NULL, "user@1000");
	expect_in("0::" USER "/app.slice/nginx.service\n", NULL, NULL, "nginx");
	/* a system service with Delegate=yes: its own name counts */
	expect_in("0::/system.slice/deleg.service/" ID "/sshd.service\n", "/system.slice/deleg.service",
		  NULL, "deleg");
	/* delegated from the root: nothing counts, the process name will */
	expect_in("0::/x/nginx.service\n", "/x", NULL, NULL);
	/* an unified line that names nothing trusted gives way to the named
	 * hierarchy's; each line is asked about with its own hierarchy */
	expect_in("9:name=systemd:/system.slice/sshd.service\n0::/x/nginx.service\n", "/x", "",
		  "sshd");
	expect_in("9:name=systemd:/x/nginx.service\n0::/x/nginx.service\n", "/x", "name=systemd",
		  "nginx");
	expect_in("9:name=systemd:/x/nginx.service\n4:memory:/x/y.service\n", "/x", "name=systemd",
		  "y");
	{
		const char *t = "0::/system.slice/docker-" ID ".scope/a.service\n";
		char out[SERVICE_NAME_MAX];
		int calls = 0;

		CHECK(service_from_cgroup(t, strlen(t), trust_none, &calls, out) == -ENOENT &&
			      calls == 2,
		      "trusting nothing: no name, both candidates asked (%d)", calls);
	}

	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)rand() % sizeof(junk);
		struct fake f = { "/a", NULL, junk, junk + len, 0, 0 };
		char out[SERVICE_NAME_MAX];
		int calls = 0;

		for (size_t i = 0; i < len; i++)
			junk[i] = "0123456789abcdef:/-.\nscopeservice"[rand() % 33];
		service_from_cgroup(junk, len, fake_trusted, &f, out);
		bad += f.outside || service_from_cgroup(junk, len, trust_none, &calls, out) != -ENOENT;
	}
	CHECK(!bad, "random input: never a crash, a question outside the text or an untrusted "
		    "name (%d bad)", bad);
	return check_summary();
}
