// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the initramfs that make run boots: prints what VCM said and
 * registered at boot (its kernel log lines and its debugfs files), then
 * powers the machine off.  Userspace; not a kernel file.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>

#define LOG_SIZE (1024 * 1024)
#define VCM_DEBUGFS "/sys/kernel/debug/vcm"

static char log_buf[LOG_SIZE];

static void print_vcm_log_lines(void)
{
	int len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log_buf, LOG_SIZE - 1);
	char *line, *save;

	if (len < 0) {
		perror("klogctl");
		return;
	}
	log_buf[len] = '\0';
	for (line = strtok_r(log_buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, "vcm"))	/* without the "<level>" prefix */
			printf("  %s\n", line[0] == '<' && strchr(line, '>') ?
			       strchr(line, '>') + 1 : line);
}

static void print_file(const char *path)
{
	char buf[4096];
	int lines = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		return;
	}
	printf("%s:\n", path);
	while (fgets(buf, sizeof(buf), f)) {
		printf("  %s", buf);
		if (buf[0] != '#')
			lines++;
	}
	if (!lines)
		printf("  (empty)\n");
	fclose(f);
}

int main(void)
{
	struct dirent *d;
	DIR *dir;

	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	printf("vcm-run: begin\n");
	printf("Kernel log lines from VCM:\n");
	print_vcm_log_lines();
	dir = opendir(VCM_DEBUGFS);
	if (!dir) {
		perror(VCM_DEBUGFS);
	} else {
		while ((d = readdir(dir))) {
			char path[512];

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", VCM_DEBUGFS, d->d_name);
			print_file(path);
		}
		closedir(dir);
	}
	printf("vcm-run: end\n");
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0;
}
