/* searchlite export: a library's searchable content as one app file. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: searchlite export -o FILE [--library FILE]\n"
            "\n"
            "Writes the library's searchable content into one read-only app file that\n"
            "an app ships next to the model: every embedded item's path, size and\n"
            "metadata (captions), the embeddings, and for a library of 20,000 items or\n"
            "more with a dense model its ANN index (brought up to date first).\n"
            "`searchlite search --library FILE` and sl_searcher_open() open it like\n"
            "a library; it needs no SQLite and is mapped, not read. The format is in\n"
            "docs/FORMAT.md (\"App file\").\n"
            "\n"
            "options:\n"
            "  -o, --output FILE  the app file to write (replaced atomically)\n"
            "  --library FILE     the library (default: $SEARCHLITE_LIBRARY, else\n"
            "                     $XDG_DATA_HOME/searchlite/" SL_DEFAULT_LIBRARY_NAME ")\n"
            "  --threads N        threads for an ANN index build (default 2)\n"
            "  -q, --quiet        no summary line\n"
            "  -h, --help         this help\n"
            "\n"
            "exit status: 0 on success, 1 on failure, 2 for a usage error.\n");
}

int cmd_export(int argc, char **argv) {
    const char *output = NULL, *library_flag = NULL;
    long threads = 2;
    int quiet = 0;
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"library", required_argument, 0, 'l'},
                                         {"threads", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'l': library_flag = optarg; break;
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads)) return 2;
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !output) {
        cli_error(optind < argc ? "export: unexpected argument '%s'" : "export: -o FILE is required%s",
                  optind < argc ? argv[optind] : "");
        usage(stderr);
        return 2;
    }
    char lib_path[4096];
    if (!cli_library_path(library_flag, lib_path, sizeof lib_path)) return 1;
    cli_setup_log(0);
    sl_library *lib = NULL;
    sl_status st = sl_library_open(lib_path, 0, &lib);
    if (st) {
        cli_status_error("export", st);
        return 1;
    }
    sl_export_opts o;
    sl_export_opts_init(&o);
    o.n_threads = (int)threads;
    sl_export_stats stats;
    const double t0 = cli_now();
    st = sl_library_export(lib, output, &o, &stats);
    sl_library_close(lib);
    if (st) {
        cli_status_error("export", st);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "exported %llu items (%s embeddings%s) to %s: %.1f MB in %.2f s\n",
                (unsigned long long)stats.items, stats.sparse ? "sparse" : "dense",
                stats.has_ann ? " + ANN index" : "", output, (double)stats.bytes / 1e6, cli_now() - t0);
    return 0;
}
