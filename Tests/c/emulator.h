/*
 * emulator.h — starts and stops the provider emulator (Tests/emulator/emulator.py) for a C test.
 *
 *   emulator emu;
 *   if (emulator_start(&emu, NULL) != 0) ...       // emu.url = "http://127.0.0.1:PORT"
 *   ...
 *   emulator_stop(&emu);
 *
 * The script is $ANYLLM_EMULATOR (default Tests/emulator/emulator.py under the current directory), run by
 * $ANYLLM_PYTHON (default: python3 from PATH) with fork/exec. Its stdin is a pipe that we keep open: the
 * emulator exits when that pipe closes, so it dies with the test process even if the test crashes.
 * fixtures_dir: the folder for replay:NAME models; NULL = $ANYLLM_FIXTURES, else the emulator's default.
 * test_server_start() runs any such script (the emulator with extra arguments such as --tls-cert, or
 * Tests/emulator/proxy.py) that announces itself with one line "PREFIX URL".
 * Header-only: every function is static inline.
 */
#ifndef ANYLLM_TEST_EMULATOR_H
#define ANYLLM_TEST_EMULATOR_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct emulator {
    pid_t pid;
    int stdin_fd;   /* write end of the child's stdin: closing it stops the emulator */
    int stdout_fd;  /* read end of the child's stdout */
    int port;
    char url[256];  /* "http://127.0.0.1:PORT" (https:// when serving TLS), no trailing slash */
} emulator;

static inline double emulator_now_(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An executable file named `name` in $PATH, into buf (resolved before fork: execv after fork only). */
static inline int emulator_find_in_path_(const char *name, char *buf, size_t n) {
    if (strchr(name, '/')) {
        snprintf(buf, n, "%s", name);
        return access(buf, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + strlen(name) + 2 <= n) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, name);
            if (access(buf, X_OK) == 0) return 0;
        }
        if (!end) break;
        path = end + 1;
    }
    return -1;
}

/* Reads one line ("ANYLLM_EMULATOR http://...") from fd within timeout_s. 0 on success. */
static inline int emulator_read_line_(int fd, char *buf, size_t n, double timeout_s) {
    size_t len = 0;
    double deadline = emulator_now_() + timeout_s;
    while (len + 1 < n) {
        double left = deadline - emulator_now_();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1; /* the emulator exited before printing its line */
        if (c == '\n') break;
        buf[len++] = c;
    }
    buf[len] = 0;
    if (len > 0 && buf[len - 1] == '\r') buf[len - 1] = 0;
    return 0;
}

static inline void emulator_stop(emulator *e);

/* Starts `script` (NULL: the emulator, $ANYLLM_EMULATOR) with "--port 0" and the NULL-terminated `extra`
 * arguments (at most 16), and waits for its line "PREFIX URL" (prefix includes the space). 0 on success (e->url
 * set), -1 with a message on stderr otherwise. */
static inline int test_server_start(emulator *e, const char *script, const char *const *extra, const char *prefix) {
    memset(e, 0, sizeof *e);
    e->pid = -1;
    e->stdin_fd = e->stdout_fd = -1;
    signal(SIGPIPE, SIG_IGN); /* a peer closing a socket must never kill the test */

    if (!script) script = getenv("ANYLLM_EMULATOR");
    if (!script || !*script) script = "Tests/emulator/emulator.py";
    const char *python = getenv("ANYLLM_PYTHON");
    if (!python || !*python) python = "python3";
    char exe[4096];
    if (emulator_find_in_path_(python, exe, sizeof exe) != 0) {
        fprintf(stderr, "emulator: %s not found\n", python);
        return -1;
    }
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "emulator: cannot read %s (set ANYLLM_EMULATOR)\n", script);
        return -1;
    }
    /* argv is built before fork: between fork and exec the child calls only async-signal-safe functions. */
    const char *argv[24];
    int argc = 0;
    argv[argc++] = exe;
    argv[argc++] = script;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    for (int i = 0; extra && extra[i] && argc < 23; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        return -1;
    }
    if (pid == 0) {
        /* dup2 clears FD_CLOEXEC on the new descriptors; everything else closes on exec. */
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0) _exit(126);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    e->pid = pid;
    e->stdin_fd = in[1];
    e->stdout_fd = out[0];

    char line[256];
    if (emulator_read_line_(e->stdout_fd, line, sizeof line, 30.0) != 0) {
        fprintf(stderr, "emulator: no startup line from %s %s within 30 s\n", exe, script);
        emulator_stop(e);
        return -1;
    }
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "emulator: unexpected startup line \"%s\"\n", line);
        emulator_stop(e);
        return -1;
    }
    snprintf(e->url, sizeof e->url, "%s", line + strlen(prefix));
    const char *colon = strrchr(e->url, ':');
    e->port = colon ? atoi(colon + 1) : 0;
    if ((strncmp(e->url, "http://", 7) != 0 && strncmp(e->url, "https://", 8) != 0) || e->port <= 0) {
        fprintf(stderr, "emulator: cannot read the URL in \"%s\"\n", line);
        emulator_stop(e);
        return -1;
    }
    return 0;
}

/* Starts the emulator; 0 on success (e->url set), -1 with a message on stderr otherwise. */
static inline int emulator_start(emulator *e, const char *fixtures_dir) {
    if (!fixtures_dir) fixtures_dir = getenv("ANYLLM_FIXTURES");
    const char *extra[] = {"--fixtures", fixtures_dir, NULL};
    return test_server_start(e, NULL, fixtures_dir && *fixtures_dir ? extra : NULL, "ANYLLM_EMULATOR ");
}

/* Stops the emulator: closes its stdin, sends SIGTERM, reaps it (SIGKILL after 5 s). Idempotent. */
static inline void emulator_stop(emulator *e) {
    if (e->stdin_fd >= 0) {
        close(e->stdin_fd);
        e->stdin_fd = -1;
    }
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        double deadline = emulator_now_() + 5.0;
        int status;
        for (;;) {
            pid_t r = waitpid(e->pid, &status, WNOHANG);
            if (r == e->pid || (r < 0 && errno != EINTR)) break;
            if (emulator_now_() > deadline) {
                kill(e->pid, SIGKILL);
                waitpid(e->pid, &status, 0);
                break;
            }
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        e->pid = -1;
    }
    if (e->stdout_fd >= 0) {
        close(e->stdout_fd);
        e->stdout_fd = -1;
    }
}

#endif /* ANYLLM_TEST_EMULATOR_H */
