/* searchlite index DIR...: bring the library up to date with folders of
 * photos. The work is the library's (sl_library_index); this file parses
 * options, draws the progress bar and turns Ctrl-C into a clean stop. */
#include "commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite index DIR|IMAGE... [options]\n"
            "\n"
            "Adds the photos under each folder (recursively; JPEG, PNG, BMP) to the\n"
            "library: new and changed files are embedded, unchanged ones are kept, and\n"
            "files that disappeared from these folders are forgotten. Work is committed\n"
            "in batches: if the run is interrupted (Ctrl-C, a crash, kill -9), run the\n"
            "same command again and it resumes. Unreadable or corrupt files are skipped\n"
            "with a warning and counted in the summary.\n"
            "\n"
            "options:\n"
            "  --library FILE   the library (default: $SEARCHLITE_LIBRARY, else\n"
            "                   $XDG_DATA_HOME/searchlite/" SL_DEFAULT_LIBRARY_NAME "; created when missing)\n"
            "  --model FILE     the model (default: $SEARCHLITE_MODEL, else\n"
            "                   $XDG_DATA_HOME/searchlite/" SL_DEFAULT_MODEL_NAME ")\n"
            "  --captions FILE  COCO captions JSON: files named in it get their captions\n"
            "                   and URLs as metadata, shown with search results\n"
            "  --threads N      images embedded at once, one per thread (default 2)\n"
            "  --batch N        images per committed transaction (default 64)\n"
            "  -q, --quiet      no progress bar and no summary\n"
            "  -v, --verbose    log details\n"
            "  -h, --help       this help\n"
            "\n"
            "exit status: 0 when the library is up to date (even if some files were\n"
            "skipped as unreadable), 1 on an error, 2 for a usage error, 130 when\n"
            "interrupted (what was done is kept).\n");
}

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    /* A second Ctrl-C kills the process the usual way; committed batches
     * are safe either way. */
    if (g_interrupted) {
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    g_interrupted = 1;
}

typedef struct progress {
    int bar;    /* draw on stderr (a terminal, not --quiet) */
    int drawn;  /* a bar line is on screen and needs clearing */
} progress;

static void format_eta(double seconds, char *buf, size_t size) {
    if (seconds < 0 || seconds > 360000) {
        snprintf(buf, size, "--:--");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

static int on_progress(void *user, const sl_index_stats *st) {
    progress *p = user;
    if (p->bar) {
        if (st->phase == SL_INDEX_SCANNING) {
            fprintf(stderr, "\r\033[Kscanning: %llu image files found", (unsigned long long)st->files_found);
        } else if (st->to_embed) {
            uint64_t done = st->embedded + st->failed;
            double rate = st->seconds > 0 ? (double)done / st->seconds : 0;
            char eta[32];
            format_eta(rate > 0 ? (double)(st->to_embed - done) / rate : -1, eta, sizeof eta);
            int width = 30, fill = (int)(width * done / st->to_embed);
            char bar[64];
            for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
            bar[width] = '\0';
            fprintf(stderr, "\r\033[Kembedding [%s] %llu/%llu  %.1f images/s  ETA %s", bar,
                    (unsigned long long)done, (unsigned long long)st->to_embed, rate, eta);
        }
        fflush(stderr);
        p->drawn = 1;
    }
    return g_interrupted ? 1 : 0;
}

/* Warnings (skipped files) must not be drawn over by the bar. */
static progress *g_progress;

static void log_line(void *user, sl_log_level level, const char *msg) {
    (void)user;
    static const char *names[] = {"debug", "info", "warning", "error"};
    if (g_progress && g_progress->drawn) {
        fputs("\r\033[K", stderr);
        g_progress->drawn = 0;
    }
    fprintf(stderr, "searchlite: %s: %s\n", names[level & 3], msg);
}

int cmd_index(int argc, char **argv) {
    const char *library = NULL, *model_flag = NULL, *captions = NULL;
    long threads = 2, batch = 64;
    int quiet = 0, verbose = 0;
    static const struct option opts[] = {
        {"library", required_argument, 0, 'L'}, {"model", required_argument, 0, 'm'},
        {"captions", required_argument, 0, 'c'}, {"threads", required_argument, 0, 'j'},
        {"batch", required_argument, 0, 'b'},   {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'L': library = optarg; break;
        case 'm': model_flag = optarg; break;
        case 'c': captions = optarg; break;
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads)) return 2;
            break;
        case 'b':
            if (!cli_parse_int("--batch", optarg, 1, 100000, &batch)) return 2;
            break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        cli_error("index: name at least one folder (see 'searchlite index --help')");
        return 2;
    }
    char lib_path[4096], model_path[4096];
    if (!cli_library_path(library, lib_path, sizeof lib_path) || !cli_model_path(model_flag, model_path, sizeof model_path))
        return 1;
    progress prog = {.bar = !quiet && cli_stderr_is_tty()};
    g_progress = &prog;
    sl_set_log(log_line, NULL, verbose ? SL_LOG_DEBUG : SL_LOG_WARN);

    sl_model *model = cli_open_model(model_path);
    if (!model) return 1;
    if (!cli_make_parent_dirs(lib_path)) {
        sl_model_free(model);
        return 1;
    }
    sl_library *lib = NULL;
    sl_status st = sl_library_open(lib_path, 1, &lib);
    if (st) {
        cli_status_error("cannot open the library", st);
        sl_model_free(model);
        return 1;
    }
    sl_index_opts o;
    sl_index_opts_init(&o);
    o.n_threads = (int)threads;
    o.batch_size = (size_t)batch;
    o.captions = captions;
    o.progress = on_progress;
    o.progress_user = &prog;
    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);

    sl_index_stats stats = {0};
    st = sl_library_index(lib, model, (const char *const *)argv + optind, (size_t)(argc - optind), &o, &stats);
    sigaction(SIGINT, &old_sa, NULL);
    if (prog.drawn) fputs("\r\033[K", stderr);
    int rc = 0;
    if (st) {
        cli_status_error("index", st);
        rc = 1;
    }
    int64_t items = 0, embedded = 0;
    if (!st && sl_library_count(lib, &items, &embedded) != SL_OK) items = embedded = -1;
    if (!st && !quiet) {
        double rate = stats.seconds > 0 ? (double)(stats.embedded + stats.failed) / stats.seconds : 0;
        fprintf(stderr,
                "%s: %llu image files: %llu embedded, %llu unchanged, %llu skipped (unreadable), %llu "
                "forgotten, in %.1f s (%.1f images/s)\nlibrary %s: %lld items\n",
                stats.cancelled ? "interrupted" : "indexed", (unsigned long long)stats.files_found,
                (unsigned long long)stats.embedded, (unsigned long long)stats.unchanged,
                (unsigned long long)stats.failed, (unsigned long long)stats.removed, stats.seconds, rate, lib_path,
                (long long)items);
        if (stats.cancelled) fprintf(stderr, "run the same command again to finish\n");
    }
    if (!st && stats.cancelled) rc = 130;
    sl_library_close(lib);
    sl_model_free(model);
    g_progress = NULL;
    return rc;
}
