/* Status strings, the thread-local error message and the log callback. */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SL_ERRMSG_CAP 512

static _Thread_local char tl_message[SL_ERRMSG_CAP];

const char *sl_version(void) { return "0.1.0"; }

const char *sl_status_str(sl_status status) {
    switch (status) {
    case SL_OK: return "ok";
    case SL_ERR_ARG: return "invalid argument";
    case SL_ERR_NOMEM: return "out of memory";
    case SL_ERR_IO: return "input/output error";
    case SL_ERR_CORRUPT: return "corrupt input";
    case SL_ERR_UNSUPPORTED: return "unsupported";
    case SL_ERR_LIMIT: return "limit exceeded";
    case SL_ERR_NOT_FOUND: return "not found";
    case SL_ERR_CHECKSUM: return "checksum mismatch";
    case SL_ERR_STATE: return "invalid state";
    case SL_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *sl_last_error(void) { return tl_message; }

void sl_clear_error(void) { tl_message[0] = '\0'; }

sl_status sl_fail(sl_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    return status;
}

sl_status sl_fail_prefix(sl_status status, const char *prefix) {
    char old[SL_ERRMSG_CAP];
    memcpy(old, tl_message, sizeof old);
    const char *detail = old[0] ? old : sl_status_str(status);
    /* Truncation of an over-long message is acceptable; build it by hand so
     * the compiler's truncation warning does not apply. */
    size_t np = strnlen(prefix, SL_ERRMSG_CAP / 2);
    memcpy(tl_message, prefix, np);
    memcpy(tl_message + np, ": ", 2);
    size_t room = SL_ERRMSG_CAP - np - 3;
    size_t nd = strnlen(detail, room);
    memcpy(tl_message + np + 2, detail, nd);
    tl_message[np + 2 + nd] = '\0';
    return status;
}

/* The callback is set once at start-up by the application; reads are racy
 * only against a concurrent sl_set_log, which the header rules out. */
static sl_log_fn g_log_fn;
static void *g_log_user;
static sl_log_level g_log_min = SL_LOG_INFO;

void sl_set_log(sl_log_fn fn, void *user, sl_log_level min_level) {
    g_log_fn = fn;
    g_log_user = user;
    g_log_min = min_level;
}

void sl_log(sl_log_level level, const char *fmt, ...) {
    if (!g_log_fn || level < g_log_min) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_log_fn(g_log_user, level, buf);
}
