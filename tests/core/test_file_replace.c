/* Tests of core/file_replace: an output file is replaced whole or not at
 * all, through symbolic links, keeping its mode; devices are written in
 * place and directories refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/file_replace.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct dir {
    char path[64];
};

static int dir_setup(void **state)
{
    struct dir *d = malloc(sizeof *d);
    assert_non_null(d);
    strcpy(d->path, "/tmp/oomkit-fr-XXXXXX");
    assert_non_null(mkdtemp(d->path));
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    struct dir *d = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    int rc = system(cmd);
    free(d);
    return rc == 0 ? 0 : -1;
}

static const char *in_dir(const struct dir *d, const char *name)
{
    static char buf[4][128];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", d->path, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void assert_text(const char *path, const char *want)
{
    char got[256] = { 0 };
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, want);
}

/* Entries in the directory, to see that no temporary is left. */
static int entries(const struct dir *d)
{
    DIR *dp = opendir(d->path);
    assert_non_null(dp);
    int n = 0;
    for (struct dirent *e; (e = readdir(dp)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dp);
    return n;
}

static void test_creates_and_replaces(void **state)
{
    struct dir *d = *state;
    const char *out = in_dir(d, "out");
    assert_int_equal(oomkit__file_replace_write(out, "first", 5), 0);
    assert_text(out, "first");
    assert_int_equal(chmod(out, 0600), 0);
    assert_int_equal(oomkit__file_replace_write(out, "second", 6), 0);
    assert_text(out, "second");
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(entries(d), 1);
}

static void test_abort_keeps_the_old_file(void **state)
{
    struct dir *d = *state;
    const char *out = in_dir(d, "out");
    write_text(out, "old");
    oomkit__file_replace r;
    assert_int_equal(oomkit__file_replace_open(&r, out), 0);
    assert_int_equal(write(r.fd, "half", 4), 4);
    assert_text(out, "old");
    oomkit__file_replace_abort(&r);
    assert_text(out, "old");
    assert_int_equal(entries(d), 1);
}

/* A read-only file is refused as a shell's '>' refuses it. Root may write
 * anything, so as root the call is made by a child that drops to nobody. */
static void test_read_only_file_refused(void **state)
{
    struct dir *d = *state;
    const char *out = in_dir(d, "ro");
    write_text(out, "keep");
    assert_int_equal(chmod(out, 0444), 0);
    assert_int_equal(chmod(d->path, 0777), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(99);
        _exit(oomkit__file_replace_write(out, "new", 3) == -EACCES ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_text(out, "keep");
    assert_int_equal(entries(d), 1);
}

static void test_link_is_followed_and_kept(void **state)
{
    struct dir *d = *state;
    const char *real = in_dir(d, "real"), *link = in_dir(d, "link");
    write_text(real, "old");
    assert_int_equal(symlink("real", link), 0);
    assert_int_equal(oomkit__file_replace_write(link, "new", 3), 0);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_text(real, "new");
    assert_int_equal(entries(d), 2);
}

static void test_directory_refused_device_written(void **state)
{
    struct dir *d = *state;
    assert_int_equal(oomkit__file_replace_write(d->path, "x", 1), -EISDIR);
    /* /dev/null stays a device; /dev/full reports the failed write. */
    assert_int_equal(oomkit__file_replace_write("/dev/null", "x", 1), 0);
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode))
        assert_int_equal(oomkit__file_replace_write("/dev/full", "x", 1), -ENOSPC);
    assert_int_equal(oomkit__file_replace_write("", "x", 1), -ENOENT);
    assert_int_equal(entries(d), 0);
}

/* A link that leads to a pipe, as /dev/stdout does under `| cat`: its
 * target has no name to resolve, and it is written in place. */
static void test_link_to_pipe_written(void **state)
{
    struct dir *d = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fd_path[64];
    snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", p[1]);
    assert_int_equal(oomkit__file_replace_write(fd_path, "abc", 3), 0);
    const char *link = in_dir(d, "out");
    assert_int_equal(symlink(fd_path, link), 0);
    assert_int_equal(oomkit__file_replace_write(link, "de", 2), 0);
    close(p[1]);
    char buf[8] = { 0 };
    assert_int_equal(read(p[0], buf, sizeof buf - 1), 5);
    assert_string_equal(buf, "abcde");
    close(p[0]);
    assert_int_equal(entries(d), 1);
}

/* A mode of 0000 is kept too (root may write the file). */
static void test_mode_zero_kept(void **state)
{
    struct dir *d = *state;
    if (geteuid() != 0)
        return;
    const char *path = in_dir(d, "locked");
    write_text(path, "old");
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(oomkit__file_replace_write(path, "new", 3), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0);
    assert_text(path, "new");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_and_replaces, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeps_the_old_file, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_file_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_link_is_followed_and_kept, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_link_to_pipe_written, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_mode_zero_kept, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_directory_refused_device_written, dir_setup,
                                        dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
