/*
 * check.h — the C tests' tiny test framework.
 *
 *   TEST("name");                         starts a named group of checks (printed, and named in failures)
 *   if (!CHECK(cond, "fmt", ...)) ...     counts one passed or failed check; evaluates to cond (0 or 1)
 *   return check_summary();               prints the final line "N passed, M failed"; 0 when M == 0
 *
 * CHECK may be used from any thread (the counters are atomic, failure messages are printed whole).
 * Include this (or util.h) before any system header: it selects the POSIX/GNU feature set.
 */
#ifndef ANYLLM_TEST_CHECK_H
#define ANYLLM_TEST_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int check_passed_ = 0;
static atomic_int check_failed_ = 0;
static const char *check_current_test_ = "(setup)";

static inline void test_begin_(const char *name) {
    check_current_test_ = name;
    fprintf(stderr, "== %s\n", name);
}
#define TEST(name) test_begin_(name)

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static inline int check_(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
    if (ok) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    atomic_fetch_add(&check_failed_, 1);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    flockfile(stderr);
    fprintf(stderr, "FAIL [%s] %s:%d: %s\n     %s\n", check_current_test_, file, line, expr, msg);
    funlockfile(stderr);
    return 0;
}

/* CHECK(cond, fmt, ...): fmt and its arguments describe the failure (what was expected, what came). */
#define CHECK(cond, ...) check_(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* The last line of every test binary, exactly "N passed, M failed". Returns the exit code. */
static inline int check_summary(void) {
    int p = atomic_load(&check_passed_), f = atomic_load(&check_failed_);
    fflush(stderr);
    printf("%d passed, %d failed\n", p, f);
    fflush(stdout);
    return f == 0 && p > 0 ? 0 : 1;
}

#endif /* ANYLLM_TEST_CHECK_H */
