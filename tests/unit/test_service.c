/* test_service.c - services from /proc/PID/cgroup text: containers of each
 * runtime, systemd units, preferences between hierarchies, bad input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "service.h"

#define ID "4f1c2a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"

static void expect(const char *text, const char *want)
{
	char out[SERVICE_NAME_MAX] = "";
	int err = service_from_cgroup(text, strlen(text), out);

	if (want)
		CHECK(!err && !strcmp(out, want), "'%s': got %d '%s', want '%s'", text, err, out, want);
	else
		CHECK(err == -ENOENT, "'%s': got %d '%s', want none", text, err, out);
}

int main(void)
{
	char junk[512];

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
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)rand() % sizeof(junk);
		char out[SERVICE_NAME_MAX];

		for (size_t i = 0; i < len; i++)
			junk[i] = "0123456789abcdef:/-.\nscopeservice"[rand() % 33];
		service_from_cgroup(junk, len, out);
	}
	CHECK(1, "random input never crashes");
	return check_summary();
}
