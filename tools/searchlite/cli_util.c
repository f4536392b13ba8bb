#include "commands.h"

#include "searchlite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* One rule for the three places a file may be named, so every command finds
 * the same model and library without flags. */
static int resolve_path(const char *flag, const char *env, const char *name, char *buf, size_t size) {
    const char *e = getenv(env);
    const char *chosen = flag ? flag : (e && *e ? e : NULL);
    if (chosen) {
        if ((size_t)snprintf(buf, size, "%s", chosen) >= size) {
            cli_error("path too long: %s", chosen);
            return 0;
        }
        return 1;
    }
    char dir[4096];
    sl_status st = sl_data_dir(dir, sizeof dir);
    if (st) {
        cli_status_error("no default location for the model and library (set HOME or XDG_DATA_HOME)", st);
        return 0;
    }
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size) {
        cli_error("path too long: %s/%s", dir, name);
        return 0;
    }
    return 1;
}

int cli_model_path(const char *flag, char *buf, size_t size) {
    return resolve_path(flag, "SEARCHLITE_MODEL", SL_DEFAULT_MODEL_NAME, buf, size);
}

int cli_library_path(const char *flag, char *buf, size_t size) {
    return resolve_path(flag, "SEARCHLITE_LIBRARY", SL_DEFAULT_LIBRARY_NAME, buf, size);
}

sl_model *cli_open_model(const char *path) {
    sl_model *m = NULL;
    sl_status st = sl_model_open(path, &m);
    if (st == SL_ERR_IO && access(path, F_OK) != 0) {
        cli_error("no model at %s\n  build it with:  searchlite model build%s%s\n"
                  "  (the assets come from scripts/fetch-assets.sh models wordvecs)",
                  path, getenv("SEARCHLITE_MODEL") ? " --out " : "", getenv("SEARCHLITE_MODEL") ? path : "");
        return NULL;
    }
    if (st) {
        cli_status_error("cannot open the model", st);
        return NULL;
    }
    return m;
}

int cli_make_parent_dirs(const char *path) {
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf) {
        cli_error("path too long: %s", path);
        return 0;
    }
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return 1;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            cli_error("cannot create %s: %s", buf, strerror(errno));
            return 0;
        }
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        cli_error("cannot create %s: %s", buf, strerror(errno));
        return 0;
    }
    return 1;
}

void cli_json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20) fprintf(out, "\\u%04x", *p);
            else fputc(*p, out);
        }
    }
    fputc('"', out);
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
