/* searchlite search QUERY / similar IMAGE: open the model and the library,
 * answer, print a table (or JSON), optionally write a gallery page. */
#include "commands.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, int similar) {
    if (similar)
        fprintf(out, "usage: searchlite similar IMAGE [options]\n"
                     "\n"
                     "Finds the library's images most like IMAGE (a file in the library or not;\n"
                     "the image itself is never listed).\n");
    else
        fprintf(out, "usage: searchlite search QUERY... [options]\n"
                     "       searchlite search -q QUERY [-q QUERY...] [options]\n"
                     "\n"
                     "Finds the library's images that best match a text query such as\n"
                     "\"a dog sitting on a chair\". Words given as separate arguments form one\n"
                     "query; -q may be repeated to run several queries in one go.\n");
    fprintf(out,
            "\n"
            "Prints rank, similarity (cosine, higher is closer), path and the first\n"
            "caption when the library has one (searchlite index --captions).\n"
            "\n"
            "options:\n"
            "%s"
            "  -k N            results per query (default 10)\n"
            "  --json          print JSON instead of the table\n"
            "  --html FILE     also write a self-contained gallery page (thumbnails\n"
            "                  embedded; open it in any browser)\n"
            "  --library FILE  the library, or an app file (searchlite export)\n"
            "                  (default: $SEARCHLITE_LIBRARY, else\n"
            "                  $XDG_DATA_HOME/searchlite/" SL_DEFAULT_LIBRARY_NAME ")\n"
            "  --model FILE    the model (default: $SEARCHLITE_MODEL, else\n"
            "                  $XDG_DATA_HOME/searchlite/" SL_DEFAULT_MODEL_NAME ")\n"
            "  --threads N     threads per query (default 1; results do not depend on it)\n"
            "  --exact         scan every item exactly instead of the library's index\n"
            "                  (posting lists from 2,048 items, exact as well; an ANN\n"
            "                  index from 20,000 dense items; see docs/SEARCH.md)\n"
            "  -v, --verbose   log details and timings\n"
            "  -h, --help      this help\n"
            "\n"
            "exit status: 0 on success, 1 on failure (e.g. no known word in a query),\n"
            "2 for a usage error.\n",
            similar ? "" : "  -q, --query Q   a query (repeatable)\n");
}

/* The first caption in an item's metadata, or NULL. Caller frees. */
static char *first_caption(const char *metadata) {
    if (!metadata) return NULL;
    cJSON *j = cJSON_Parse(metadata);
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(j, "captions");
    const cJSON *first = cJSON_IsArray(caps) ? cJSON_GetArrayItem(caps, 0) : NULL;
    char *out = cJSON_IsString(first) ? strdup(first->valuestring) : NULL;
    cJSON_Delete(j);
    return out;
}

static void print_table(const char *title, const sl_results *r, double ms) {
    printf("%s — %zu result%s (%.1f ms)\n", title, r->n, r->n == 1 ? "" : "s", ms);
    printf("%4s  %10s  %s\n", "rank", "similarity", "image");
    for (size_t i = 0; i < r->n; i++) {
        const sl_result *h = &r->hits[i];
        printf("%4zu  %10.4f  %s\n", i + 1, (double)h->similarity, h->path);
        char *cap = first_caption(h->metadata);
        if (cap) printf("%4s  %10s  \"%s\"\n", "", "", cap);
        free(cap);
    }
}

static void print_json(FILE *out, const char *kind, const char *title, const sl_results *r, double ms) {
    fprintf(out, "{\"%s\": ", kind);
    cli_json_string(out, title);
    fprintf(out, ", \"milliseconds\": %.3f, \"results\": [", ms);
    for (size_t i = 0; i < r->n; i++) {
        const sl_result *h = &r->hits[i];
        fprintf(out, "%s\n  {\"rank\": %zu, \"similarity\": %.6f, \"id\": %lld, \"path\": ", i ? "," : "", i + 1,
                (double)h->similarity, (long long)h->id);
        cli_json_string(out, h->path);
        fprintf(out, ", \"width\": %d, \"height\": %d, \"metadata\": %s}", h->width, h->height,
                h->metadata ? h->metadata : "null");
    }
    fprintf(out, "%s]}\n", r->n ? "\n" : "");
}

static int run(int argc, char **argv, int similar) {
    const char *library = NULL, *model_flag = NULL, *html = NULL;
    long k = 10, threads = 1;
    int json = 0, verbose = 0, exact = 0;
    const char **queries = calloc((size_t)argc + 1, sizeof *queries);
    size_t n_queries = 0;
    char *joined = NULL;
    if (!queries) return 1;
    static const struct option opts[] = {
        {"library", required_argument, 0, 'L'}, {"model", required_argument, 0, 'm'},
        {"html", required_argument, 0, 'H'},    {"json", no_argument, 0, 'J'},
        {"threads", required_argument, 0, 'j'}, {"query", required_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},       {"help", no_argument, 0, 'h'},
        {"exact", no_argument, 0, 'E'},         {0, 0, 0, 0}};
    int c, rc = 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, similar ? "k:vh" : "k:q:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'L': library = optarg; break;
        case 'm': model_flag = optarg; break;
        case 'H': html = optarg; break;
        case 'J': json = 1; break;
        case 'E': exact = 1; break;
        case 'q':
            if (similar) goto usage_error;
            queries[n_queries++] = optarg;
            break;
        case 'k':
            if (!cli_parse_int("-k", optarg, 1, 100000, &k)) goto out;
            break;
        case 'j':
            if (!cli_parse_int("--threads", optarg, 1, 256, &threads)) goto out;
            break;
        case 'v': verbose = 1; break;
        case 'h':
            usage(stdout, similar);
            rc = 0;
            goto out;
        default: goto usage_error;
        }
    }
    if (similar) {
        if (argc - optind != 1) {
            cli_error("similar: name exactly one image (see 'searchlite similar --help')");
            goto out;
        }
        queries[n_queries++] = argv[optind];
    } else if (optind < argc) {
        /* Unquoted words are one query: `searchlite search a dog on a chair`. */
        size_t len = 1;
        for (int i = optind; i < argc; i++) len += strlen(argv[i]) + 1;
        joined = malloc(len);
        if (!joined) goto out;
        joined[0] = '\0';
        for (int i = optind; i < argc; i++) {
            if (i > optind) strcat(joined, " ");
            strcat(joined, argv[i]);
        }
        queries[n_queries++] = joined;
    }
    if (!n_queries) {
        cli_error("search: give a query, e.g. searchlite search \"a dog sitting on a chair\"");
        goto out;
    }
    rc = 1;
    char lib_path[4096], model_path[4096];
    if (!cli_library_path(library, lib_path, sizeof lib_path) || !cli_model_path(model_flag, model_path, sizeof model_path))
        goto out;
    cli_setup_log(verbose);
    const double t0 = cli_now();
    sl_model *model = cli_open_model(model_path);
    if (!model) goto out;
    const double t_model = cli_now();
    sl_searcher_opts so;
    sl_searcher_opts_init(&so);
    so.n_threads = (int)threads;
    so.exact = exact;
    sl_searcher *s = NULL;
    sl_status st = sl_searcher_open(model, lib_path, &so, &s);
    if (st) {
        if (st == SL_ERR_NOT_FOUND)
            cli_error("no library at %s\n  make one with:  searchlite index DIR%s%s", lib_path,
                      library ? " --library " : "", library ? library : "");
        else cli_status_error("cannot open the library", st);
        sl_model_free(model);
        goto out;
    }
    const double t_lib = cli_now();
    sl_results **results = calloc(n_queries, sizeof *results);
    sl_gallery_section *sections = calloc(n_queries, sizeof *sections);
    rc = results && sections ? 0 : 1;
    if (json && n_queries > 1) printf("[");
    for (size_t q = 0; q < n_queries && results && sections; q++) {
        const double tq = cli_now();
        st = similar ? sl_search_similar(s, queries[q], (size_t)k, &results[q])
                     : sl_search_text(s, queries[q], (size_t)k, &results[q]);
        const double ms = 1000 * (cli_now() - tq);
        if (q == 0 && verbose)
            fprintf(stderr, "searchlite: open model %.1f ms, open library (%zu items) %.1f ms, first answer %.1f ms\n",
                    1000 * (t_model - t0), sl_searcher_count(s), 1000 * (t_lib - t_model), 1000 * (cli_now() - t0));
        if (st) {
            char what[600];
            snprintf(what, sizeof what, "%s \"%.500s\"", similar ? "similar" : "query", queries[q]);
            cli_status_error(what, st);
            rc = 1;
            continue;
        }
        sections[q].title = queries[q];
        sections[q].results = results[q];
        if (json) {
            if (n_queries > 1 && q) printf(",\n");
            print_json(stdout, similar ? "image" : "query", queries[q], results[q], ms);
        } else {
            if (q) printf("\n");
            print_table(queries[q], results[q], ms);
        }
    }
    if (json && n_queries > 1) printf("]\n");
    if (html && results && sections) {
        /* Failed queries are left out of the page. */
        size_t n = 0;
        for (size_t q = 0; q < n_queries; q++)
            if (results[q]) sections[n++] = sections[q];
        sl_gallery_opts go;
        sl_gallery_opts_init(&go);
        char title[600];
        snprintf(title, sizeof title, "searchlite: %.500s", n == 1 ? sections[0].title : "results");
        go.title = title;
        st = n ? sl_gallery_write(html, sections, n, &go) : SL_OK;
        if (st) {
            cli_status_error("cannot write the gallery", st);
            rc = 1;
        } else if (n) {
            fprintf(stderr, "gallery: %s\n", html);
        }
    }
    for (size_t q = 0; results && q < n_queries; q++) sl_results_free(results[q]);
    free(results);
    free(sections);
    sl_searcher_free(s);
    sl_model_free(model);
    goto out;
usage_error:
    usage(stderr, similar);
    rc = 2;
out:
    free(joined);
    free(queries);
    return rc;
}

int cmd_search(int argc, char **argv) { return run(argc, argv, 0); }

int cmd_similar(int argc, char **argv) { return run(argc, argv, 1); }
