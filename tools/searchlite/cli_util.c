#include "commands.h"

#include "searchlite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("searchlite: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_status_error(const char *what, int status) {
    const char *detail = sl_last_error();
    if (detail && *detail)
        fprintf(stderr, "searchlite: %s: %s\n", what, detail);
    else
        fprintf(stderr, "searchlite: %s: %s\n", what, sl_status_str((sl_status)status));
}

static void log_to_stderr(void *user, sl_log_level level, const char *msg) {
    (void)user;
    static const char *names[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "searchlite: %s: %s\n", names[level & 3], msg);
}

void cli_setup_log(int verbose) {
    sl_set_log(log_to_stderr, NULL, verbose ? SL_LOG_DEBUG : SL_LOG_WARN);
}

int cli_parse_int(const char *opt, const char *value, long lo, long hi, long *out) {
    if (!value) {
        cli_error("%s needs a value", opt);
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi) {
        cli_error("%s: '%s' is not a number between %ld and %ld", opt, value, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}
